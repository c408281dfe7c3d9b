"""Throughput of the local engine: characters per second and short items per second.

Run: python bench/local_engine.py [--workers 2] [--format wav] [--sample-rate 16000]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

from voxform.engine.client import EspeakEngine
from voxform.engine.libespeak import engine_version
from voxform.ice.wire import AudioFormat

FORMATS: dict[str, AudioFormat] = {"wav": "wav", "mp3": "mp3", "pcm": "pcm"}
PARAGRAPH = (
    "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs! "
    "How vexingly quick daft zebras jump; the five boxing wizards jump quickly. "
)


def measure(engine: EspeakEngine, texts: list[str], fmt: AudioFormat, sample_rate: int) -> float:
    """Seconds to synthesize every text from more threads than the engine has workers."""

    def one(text: str) -> None:
        engine.synthesize(
            text, voice="xiaoyun", customized_voice=None, fmt=fmt, sample_rate=sample_rate
        )

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2 * engine.workers + 2) as pool:
        list(pool.map(one, texts))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--format", default="wav", choices=sorted(FORMATS))
    parser.add_argument("--sample-rate", type=int, default=16000)
    args = parser.parse_args()
    fmt, rate = FORMATS[args.format], args.sample_rate
    print(f"{engine_version()}; {args.format} at {rate} Hz; workers={args.workers}")
    with EspeakEngine(workers=args.workers) as engine:
        measure(engine, ["Warm up."] * 4, fmt, rate)
        long_texts = [f"<speak>{PARAGRAPH * 12} Item {i}.</speak>" for i in range(16)]
        chars = sum(len(text) for text in long_texts)
        seconds = measure(engine, long_texts, fmt, rate)
        print(
            f"long items:  {chars / seconds:8,.0f} characters/second "
            f"({len(long_texts)} items of {chars // len(long_texts):,} characters)"
        )
        short_texts = [f"<speak>Short item number {i}.</speak>" for i in range(200)]
        seconds = measure(engine, short_texts, fmt, rate)
        print(
            f"short items: {len(short_texts) / seconds:8,.0f} items/second "
            f"({seconds / len(short_texts) * 1000:.1f} ms each)"
        )


if __name__ == "__main__":
    main()
