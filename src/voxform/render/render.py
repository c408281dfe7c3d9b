"""Items rendered into provider requests: lexicon, template, SSML checks, limits."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from itertools import accumulate
from types import TracebackType

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from voxform.digest import digest
from voxform.errors import Location, Problem
from voxform.manifest.model import BUILTIN_TEMPLATE, Project
from voxform.render.assemble import Made, rendered_item, request_for
from voxform.render.chunking import sentence_spans
from voxform.render.document import check_document
from voxform.render.ids import align_parts, part_chunk
from voxform.render.inputs import core_digests
from voxform.render.lexicon import apply_lexicon
from voxform.render.model import Item, Prints, RenderedItem
from voxform.render.parallel import render_forked, workers_for
from voxform.render.parts import partition
from voxform.render.results import ItemResult as ItemResult
from voxform.render.results import item_result, packed, printing, unpacked
from voxform.render.sandbox import Sandbox, render_template
from voxform.render.shortcut import render_simple
from voxform.render.ssml import canonical_ssml, spoken_text
from voxform.render.templates import HelperError, make_environment, template_source

_SPEAK_OPEN = re.compile(r"^<speak\b")


@dataclass(frozen=True)
class _TooLong:
    length: int
    limit: int


def render_all(
    project: Project,
    items: list[Item],
    known: Mapping[str, str],
    prints: Callable[[RenderedItem], Prints | None] | None,
    finish: Callable[[int, ItemResult], ItemResult],
) -> list[ItemResult]:
    """Each item rendered, its result given as `finish(index, result)` (by this process, as
    results come): in worker processes when they are many (items.render_items, which
    answers what the render cache can, is what the rest of voxform calls)."""
    env = make_environment(project.root)
    render = render_item if prints is None else printing(render_item, prints)
    workers = workers_for(len(items))
    if workers > 1:
        forked = render_forked(
            project,
            items,
            known,
            render,
            lambda: make_environment(project.root),
            workers,
            packed,
            lambda packed, item: unpacked(project, packed, item),
            finish,
        )
        if forked is not None:
            return forked
    return [finish(i, render(project, env, item, known)) for i, item in enumerate(items)]


def render_item(
    project: Project, env: SandboxedEnvironment, item: Item, known: Mapping[str, str]
) -> ItemResult:
    """One item's requests and problems; reads nothing but its arguments."""
    problems: list[Problem] = []
    result = _render(project, env, item)
    if isinstance(result, _TooLong):
        if item.splittable:
            parts = _split(project, env, item, result, problems, known)
            return ItemResult(tuple(parts), tuple(problems))
        return ItemResult((), (_too_long(item, result, splittable=False),))
    if isinstance(result, list):
        return ItemResult((), tuple(result))
    return item_result((result,), result.warnings)


def _split(
    project: Project,
    env: SandboxedEnvironment,
    item: Item,
    first: _TooLong,
    problems: list[Problem],
    known: Mapping[str, str],
) -> list[RenderedItem]:
    """Parts cut where the text's content says (render/parts.py), so an edit moves no cut
    but its neighbours', with ids kept from the lockfile (render/ids.py). Each sentence's
    size is measured once and each candidate part rendered once: linear in the text."""
    text = item.text
    spans = sentence_spans(text)
    if len(spans) < 2:
        problems.append(_too_long(item, first, splittable=True))
        return []
    starts = [start for start, _ in spans]
    # A sentence weighs what it adds to the rendered input, the space after it included.
    weights = [
        len(apply_lexicon(text[start:end], project.lexicon))
        for start, end in zip(starts, [*starts[1:], len(text)], strict=True)
    ]
    ends = [0, *accumulate(weights)]
    budget = first.limit - _overhead(project, env, item, text[slice(*spans[0])])

    def part_text(run: tuple[int, int]) -> str:
        return text[starts[run[0]] : spans[run[1] - 1][1]]

    def fits(start: int, end: int) -> bool:
        if ends[end] - ends[start] > budget + 1:  # the last space is not part of it
            return False
        trial = _render(project, env, replace(item, text=part_text((start, end))))
        return not isinstance(trial, _TooLong)  # a problem shows when the part is rendered

    runs = partition([text[slice(*span)] for span in spans], weights, budget, fits)
    texts = [part_text(run) for run in runs]
    keys = align_parts(item.id, [digest(t) for t in texts], known)
    result: list[RenderedItem] = []
    for key, words in zip(keys, texts, strict=True):
        chunk = part_chunk(item.chunk, digest(words))
        part = replace(item, id=f"{item.id}-{key}", text=words, chunk=chunk)
        rendered = _render(project, env, part)
        if isinstance(rendered, _TooLong):
            problems.append(_too_long(part, rendered, splittable=True))
        elif isinstance(rendered, list):
            problems.extend(rendered)
        else:
            result.append(rendered)
            problems.extend(rendered.warnings)
    return result


def _overhead(project: Project, env: SandboxedEnvironment, item: Item, sentence: str) -> int:
    """What the template adds around the text, measured on one sentence."""
    probe = _render(project, env, replace(item, text=sentence))
    if isinstance(probe, list):
        return 0  # the parts will tell their own problems
    length = probe.length if isinstance(probe, _TooLong) else len(probe.request.input)
    return length - len(apply_lexicon(sentence, project.lexicon))


def _too_long(item: Item, too_long: _TooLong, *, splittable: bool) -> Problem:
    how = (
        "and has no sentence boundary to split it at"
        if splittable
        else "and cannot be split (only source chunks are split; shorten it or make it a source)"
    )
    return Problem(
        item.text_location,
        f"item {item.id!r} renders to {too_long.length} characters, over the target's input "
        f"limit of {too_long.limit}, {how}",
        "limit",
    )


def _render(
    project: Project, env: SandboxedEnvironment, item: Item
) -> RenderedItem | list[Problem] | _TooLong:
    settings = item.settings
    voice = project.voices[settings.voice]
    target = project.targets[settings.target]
    template_name = settings.template
    path = project.templates.get(
        template_name, "<plain>" if template_name == BUILTIN_TEMPLATE else ""
    )
    text = apply_lexicon(item.text, project.lexicon)

    def context() -> dict[str, object]:
        return {
            "text": text,
            "item": {
                "id": item.id,
                "title": settings.title,
                "description": settings.description,
                "source": item.source_file,
            },
            "vars": dict(settings.vars),
            "voice": {
                "name": voice.name,
                "voice": voice.voice,
                "customized_voice": voice.customized_voice,
                "volume": voice.volume,
                "speech_rate": voice.speech_rate,
                "pitch_rate": voice.pitch_rate,
            },
        }

    where = project.template_locations.get(template_name, item.location)
    try:
        simple = render_simple(env, path, text, context) if isinstance(env, Sandbox) else None
        output = (render_template(env, path, context()) if simple is None else simple).strip()
    except jinja2.TemplateSyntaxError as exc:
        return [
            Problem(
                Location(path, exc.lineno or 1, 1),
                f"template syntax error: {exc.message}",
                "template",
            )
        ]
    except jinja2.TemplateNotFound as exc:
        return [Problem(where, f"template not found: {exc.message}", "template")]
    except SecurityError as exc:
        return [
            _template_problem(env, exc, path, where, item, "template sandbox refused: ", "sandbox")
        ]
    except jinja2.UndefinedError as exc:
        return [_template_problem(env, exc, path, where, item, "undefined variable: ", "undefined")]
    except (HelperError, jinja2.TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        return [_template_problem(env, exc, path, where, item, "template error: ", "template")]
    if not _SPEAK_OPEN.match(output):
        output = f"<speak>{output}</speak>"
    document = check_document(output, str(text), emotions=voice.has_emotions)
    warnings: tuple[Problem, ...] = ()
    problems: list[Problem] = []
    if document.issues:
        found = [
            Problem(
                _locate(env, path, issue.snippet, item, where),
                issue.message,
                "ssml",
                item.id,
                "warning" if issue.warning else "error",
            )
            for issue in document.issues
        ]
        warnings = tuple(p for p in found if p.severity == "warning")
        problems = [p for p in found if p.severity == "error"]
    declared = document.declared
    if declared is not None and declared != str(settings.sample_rate):
        problems.append(
            Problem(
                _locate(env, path, "sampleRate", item, where),
                f'<speak sampleRate="{declared}"> disagrees with sample_rate '
                f"{settings.sample_rate} of item {item.id!r}: set it in the manifest only",
                "ssml",
            )
        )
    if problems:
        return problems
    spelt = output
    output = canonical_ssml(output) if document.canonical is None else document.canonical
    final = (
        output
        if declared
        else output.replace("<speak", f'<speak sampleRate="{settings.sample_rate}"', 1)
    )
    # What a voxform before canonical SSML sent, to recognise the fingerprints it recorded.
    legacy = (
        final  # the same characters: one string for both
        if spelt == output
        else spelt
        if declared
        else spelt.replace("<speak", f'<speak sampleRate="{settings.sample_rate}"', 1)
    )
    if len(final) > target.max_input_chars:
        return _TooLong(len(final), target.max_input_chars)
    request = request_for(project, item, final)
    core = core_digests(item.text, str(text), output, target, request, settings.template)
    characters = len(spoken_text(final)) if document.spoken is None else document.spoken
    return rendered_item(project, request, Made(final, characters, core, legacy, item), warnings)


def _template_problem(
    env: SandboxedEnvironment,
    exc: BaseException,
    path: str,
    fallback: Location,
    item: Item,
    prefix: str,
    rule: str,
) -> Problem:
    line = _template_line(exc.__traceback__, path)
    message = f"{prefix}{exc} (item {item.id!r})"
    if line is None or path == "<plain>":
        return Problem(fallback, message, rule)
    column = 1
    name = re.search(r"'([^']+)' is undefined|attribute '([^']+)'", str(exc))
    lines = (template_source(env, path) or "").splitlines()
    if name and 0 < line <= len(lines):
        column = lines[line - 1].find(name.group(1) or name.group(2)) + 1 or 1
    return Problem(Location(path, line, column), message, rule)


def _template_line(tb: TracebackType | None, path: str) -> int | None:
    """The template line Jinja's rewritten traceback points at, innermost first."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _locate(
    env: SandboxedEnvironment, path: str, snippet: str, item: Item, fallback: Location
) -> Location:
    """Point at the template line that wrote `snippet`, else at the item."""
    if snippet and path != "<plain>":
        source = template_source(env, path)
        if source is None:
            return fallback
        for number, line in enumerate(source.splitlines(), start=1):
            column = line.find(snippet)
            if column >= 0:
                return Location(path, number, column + 1)
    return item.location if path == "<plain>" else fallback
