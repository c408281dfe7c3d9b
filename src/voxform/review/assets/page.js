"use strict";
// The review page's one script: filters, keys, the players (an <audio> is made on a take's
// first play, so thousands of takes cost nothing at load), one take playing at a time, the
// level strip's progress and the subtitle line. Every listener sits on the document and
// finds its item or take when an event comes; nothing runs per item at load.
(function () {
  var main = document.getElementById("items");
  var source = document.getElementById("source");
  var shown = document.getElementById("shown");
  var nothing = document.getElementById("nothing");
  var boxes = document.querySelectorAll('input[name="action"]');
  var playing = null;
  var current = null;

  function items() {
    return main.querySelectorAll("article.item");
  }

  function clock(seconds) {
    var tenths = Math.round(seconds * 10);
    var rest = (tenths % 600) / 10;
    return Math.floor(tenths / 600) + ":" + (rest < 10 ? "0" : "") + rest.toFixed(1);
  }

  function filter() {
    var wanted = {};
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].checked) wanted[boxes[i].value] = true;
    }
    var file = source.value;
    var list = items();
    var hide = [];
    var count = 0;
    for (var j = 0; j < list.length; j++) {  // read everything, then write: one layout
      var item = list[j];
      var visible = wanted[item.dataset.action] === true &&
        (file === "*" || item.dataset.source === file);
      if (visible) count++;
      hide.push(!visible);
    }
    for (var k = 0; k < list.length; k++) {
      if (list[k].hidden !== hide[k]) list[k].hidden = hide[k];
    }
    shown.textContent = count.toLocaleString("en");
    nothing.hidden = count > 0 || list.length === 0;
    if (current && current.hidden) select(null);
  }

  function select(item) {
    if (current === item) return;
    if (current) current.classList.remove("current");
    current = item;
    if (item) item.classList.add("current");
  }

  function move(step) {
    var list = items();
    var index = current ? Array.prototype.indexOf.call(list, current) : -1;
    if (index < 0 && step < 0) index = list.length;
    for (var i = index + step; i >= 0 && i < list.length; i += step) {
      if (!list[i].hidden) {
        select(list[i]);
        list[i].focus();
        return;
      }
    }
  }

  function audioOf(take) {
    var audio = take.querySelector("audio");
    if (audio || !take.dataset.src) return audio;
    audio = document.createElement("audio");
    audio.preload = "auto";
    audio.src = take.dataset.src;
    if (take.dataset.track) {
      var track = document.createElement("track");
      track.kind = "subtitles";
      track.srclang = "und";
      track.label = "subtitles";
      track.default = true;
      track.src = take.dataset.track;
      audio.appendChild(track);
    }
    take.appendChild(audio);
    return audio;
  }

  function toggle(take) {
    var audio = take && audioOf(take);
    if (!audio) return;
    if (audio.paused) audio.play().catch(function () {});
    else audio.pause();
  }

  function seek(take, share) {
    var audio = audioOf(take);
    if (!audio) return;
    function go() {
      if (audio.duration > 0) audio.currentTime = share * audio.duration;
    }
    if (audio.readyState >= 1) go();
    else audio.addEventListener("loadedmetadata", go, { once: true });
    if (audio.paused) audio.play().catch(function () {});
  }

  function takeIn(item, which) {
    return item.querySelector('.take[data-take="' + which + '"][data-src]');
  }

  function show(audio, isPlaying) {
    var take = audio.closest(".take");
    take.classList.toggle("playing", isPlaying);
    var button = take.querySelector(".play");
    if (button) button.setAttribute("aria-pressed", isPlaying ? "true" : "false");
  }

  document.addEventListener("change", function (event) {
    if (event.target === source || event.target.name === "action") filter();
  });

  document.addEventListener("focusin", function (event) {
    var item = event.target.closest && event.target.closest("article.item");
    if (item) select(item);
  });

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
    var key = event.key;
    var target = event.target.closest ? event.target : document.body;
    if (target.closest("input[type=text], input[type=search], textarea")) return;
    // A select takes letters (type-ahead) and arrows; any control takes space and Enter.
    var field = target.closest("select");
    var control = target.closest("input, select, button, summary, a");
    if ((key === "j" || key === "k") && !field) {
      move(key === "j" ? 1 : -1);
    } else if ((key === "1" || key === "2") && !field && current) {
      toggle(takeIn(current, key === "1" ? "now" : "after"));
    } else if ((key === "ArrowLeft" || key === "ArrowRight") && playing && !field) {
      playing.currentTime = Math.max(0, playing.currentTime + (key === "ArrowLeft" ? -5 : 5));
    } else if (key === "Escape" && playing) {
      playing.pause();
    } else if ((key === "ArrowDown" || key === "ArrowUp") && !control) {
      move(key === "ArrowDown" ? 1 : -1);
    } else if (key === " " && !control && current) {
      if (playing && current.contains(playing)) playing.pause();
      else toggle(takeIn(current, "after") || takeIn(current, "now"));
    } else {
      return;
    }
    event.preventDefault();
  });

  main.addEventListener("click", function (event) {
    var target = event.target;
    var button = target.closest && target.closest(".play");
    if (button) {
      toggle(button.closest(".take"));
      return;
    }
    var strip = target.closest && target.closest(".strip");
    if (!strip) return;
    var box = strip.getBoundingClientRect();
    seek(strip.closest(".take"), Math.min(1, Math.max(0, (event.clientX - box.left) / box.width)));
  });

  document.addEventListener("play", function (event) {
    var audio = event.target;
    if (playing && playing !== audio) playing.pause();
    playing = audio;
    show(audio, true);
    select(audio.closest("article.item"));
  }, true);

  document.addEventListener("pause", function (event) {
    if (playing === event.target) playing = null;
    show(event.target, false);
  }, true);

  document.addEventListener("timeupdate", function (event) {
    var audio = event.target;
    var take = audio.closest(".take");
    if (!(audio.duration > 0)) return;
    take.querySelector(".strip").style.setProperty("--played", String(audio.currentTime / audio.duration));
    take.querySelector(".dur").textContent =
      clock(audio.currentTime) + " / " + clock(Number(take.dataset.duration));
  }, true);

  document.addEventListener("error", function (event) {
    var audio = event.target;
    if (!audio.closest || audio.tagName !== "AUDIO") return;
    var take = audio.closest(".take");
    if (take.querySelector(".failed")) return;
    var note = document.createElement("p");
    note.className = "note failed";
    note.textContent = "the audio could not be loaded" +
      (take.querySelector(".expires") ? " (has its link expired?)" : "");
    take.appendChild(note);
  }, true);

  document.addEventListener("cuechange", function (event) {
    var track = event.target.track;
    var take = event.target.closest && event.target.closest(".take");
    var line = take && take.querySelector(".cue");
    if (!track || !line) return;
    var cues = track.activeCues;
    var text = [];
    for (var i = 0; cues && i < cues.length; i++) text.push(cues[i].text);
    line.textContent = text.join(" ");
    line.hidden = text.length === 0;
  }, true);

  var expiry = document.querySelector(".expiry[data-expires]");
  if (expiry && Date.parse(expiry.dataset.expires) <= Date.now()) {
    expiry.classList.add("expired");
    expiry.textContent += ": expired, run voxform review again for new links";
  }

  document.documentElement.classList.add("js");
})();
