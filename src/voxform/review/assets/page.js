"use strict";
// The review page's one script: filters, keys, one player at a time, the level strip's
// progress, and the subtitle line. Nothing runs per item at load: every listener sits on the
// document and finds its item when an event comes.
(function () {
  var main = document.getElementById("items");
  var source = document.getElementById("source");
  var shown = document.getElementById("shown");
  var boxes = document.querySelectorAll('input[name="action"]');
  var playing = null;
  var current = null;

  function items() {
    return main.querySelectorAll("article.item");
  }

  function filter() {
    var wanted = {};
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].checked) wanted[boxes[i].value] = true;
    }
    var file = source.value;
    var list = items();
    var count = 0;
    var hide = [];
    for (var j = 0; j < list.length; j++) {
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
    if (current && current.hidden) select(null);
  }

  function select(item) {
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

  function audioOf(item, which) {
    var take = item.querySelector('.take[data-take="' + which + '"] audio');
    return take;
  }

  function toggle(audio) {
    if (!audio) return;
    if (audio.paused) {
      audio.play().catch(function () {});
    } else {
      audio.pause();
    }
  }

  function playIn(item, which) {
    var audio = audioOf(item, which);
    if (audio) {
      if (audio.paused) toggle(audio);
      else audio.pause();
    }
  }

  function typing(target) {
    return target.closest && target.closest("input, select, textarea, audio, summary, button, [contenteditable]");
  }

  document.addEventListener("change", function (event) {
    if (event.target === source || event.target.name === "action") filter();
  });

  document.addEventListener("focusin", function (event) {
    var item = event.target.closest && event.target.closest("article.item");
    if (item) select(item);
  });

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var key = event.key;
    var inside = typing(event.target);
    if (key === "j" || key === "k") {
      if (event.target.closest && event.target.closest("input[type=text], textarea")) return;
      move(key === "j" ? 1 : -1);
      event.preventDefault();
      return;
    }
    if (inside) return;
    if (key === "ArrowDown" || key === "ArrowUp") {
      move(key === "ArrowDown" ? 1 : -1);
      event.preventDefault();
    } else if (key === " " || key === "1" || key === "2") {
      if (!current) return;
      event.preventDefault();
      if (key === "1") playIn(current, "now");
      else if (key === "2") playIn(current, "after");
      else if (playing && current.contains(playing)) toggle(playing);
      else toggle(audioOf(current, "after") || audioOf(current, "now"));
    } else if (key === "Escape" && playing) {
      playing.pause();
    }
  });

  document.addEventListener("play", function (event) {
    var audio = event.target;
    if (playing && playing !== audio) playing.pause();
    playing = audio;
    var item = audio.closest("article.item");
    if (item && item !== current) select(item);
  }, true);

  document.addEventListener("pause", function (event) {
    if (playing === event.target) playing = null;
  }, true);

  document.addEventListener("timeupdate", function (event) {
    var audio = event.target;
    var strip = audio.parentNode.querySelector(".strip");
    if (strip && audio.duration > 0) {
      strip.style.setProperty("--played", String(audio.currentTime / audio.duration));
    }
  }, true);

  document.addEventListener("cuechange", function (event) {
    var track = event.target.track;
    var line = event.target.parentNode.parentNode.querySelector(".cue");
    if (!track || !line) return;
    var cues = track.activeCues;
    var text = [];
    for (var i = 0; cues && i < cues.length; i++) text.push(cues[i].text);
    line.textContent = text.join(" ");
    line.hidden = text.length === 0;
  }, true);

  main.addEventListener("click", function (event) {
    var strip = event.target.closest && event.target.closest(".strip");
    if (!strip) return;
    var audio = strip.parentNode.querySelector("audio");
    if (!audio) return;
    var box = strip.getBoundingClientRect();
    var share = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    function seek() {
      if (audio.duration > 0) audio.currentTime = share * audio.duration;
    }
    if (audio.readyState >= 1) seek();
    else audio.addEventListener("loadedmetadata", seek, { once: true });
    if (audio.paused) audio.play().catch(function () {});
  });
})();
