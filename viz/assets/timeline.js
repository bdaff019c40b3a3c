// raftsim trace viewer: the time-scaled timeline under the controls. A
// time axis with labels; marks for leader changes, faults (not
// connection changes) and violations, each with a tooltip (an SVG title)
// and seeking to its event on click; measures as bars from their start
// (t - idx) to their end (t), split into their phases (T.measures,
// computed in Go: detection, election, membership changes, poll), each
// a segment with its label when it fits and a tooltip, going on click to
// the event that ends it. Marks closer than a pixel share one mark.
// A click elsewhere seeks to the time clicked. The playback clock is a
// red line, the space-time diagram's window a shaded band.
"use strict";

// makeTimeline draws in x.root (an svg). x: { T, ev, str, kindOf, svg,
// set, seek(i), seekTime(t), eventText(e), at(t), dur(ns), phaseText(m, p)
// (a phase's description) }, and
// optionally first and end (the times it spans; T's by default) and
// extra (more marks: { t, cls, title, act() }, act on click; the first
// difference of two traces).
function makeTimeline(x) {
  const { T, ev, str, root } = x, H = 66, AXIS = 52, MAXBARS = 3000, extra = x.extra || [];
  const measureAt = new Map((T.measures || []).map((m) => [m.event, m]));
  const first = x.first ?? ev[0][0], end = x.end ?? T.end, span = Math.max(1, end - first);
  let w = 800;
  const band = x.svg("rect", { class: "tl-window", y: 0, height: AXIS, x: 0, width: 0 });
  const cursor = x.svg("line", { class: "tl-cursor", y1: 0, y2: H, x1: 0, x2: 0 });
  const X = (t) => ((t - first) / span) * (w - 1);
  const ROWS = { leader: 2, fault: 12, violation: 12 };

  // group: the row an event's mark goes in, or "".
  function group(e, k) {
    if (k === "role") return str[e[7]] === "leader" ? "leader" : "";
    if (k === "fault") return str[e[7]].startsWith("conn ") ? "" : "fault";
    return k === "violation" ? "violation" : "";
  }
  function collect() {
    const buckets = new Map(), bars = [];
    const wanted = new Set(["measure", "role", "fault", "violation"].map((k) => T.kinds.indexOf(k) + 1));
    for (let i = 0; i < ev.length; i++) {
      const e = ev[i];
      if (!wanted.has(e[1])) continue;
      const k = x.kindOf(e);
      if (k === "measure") { if (bars.length < MAXBARS) bars.push(i); continue; }
      const g = group(e, k);
      if (!g) continue;
      const key = g + Math.round(X(e[0])), b = buckets.get(key);
      if (b) { b.n++; if (b.shown.length < 3) b.shown.push(i); } else buckets.set(key, { g, i, n: 1, shown: [i] });
    }
    return { buckets, bars };
  }
  function markOf(b) {
    const words = b.shown.map((i) => x.at(ev[i][0]) + " " + x.eventText(ev[i])).join("; ");
    const title = (b.n > 1 ? b.n + " events: " : "") + words + (b.n > b.shown.length ? "; ..." : "");
    return x.svg("rect", { class: "tl-mark tl-" + b.g, "data-i": b.i, x: X(ev[b.i][0]) - 1, y: ROWS[b.g], width: 3, height: 9 }, x.svg("title", {}, title));
  }
  // barsOf lays the measures out in up to two rows, each bar from its
  // start (end minus duration) to its end, with its phases over it.
  function barsOf(bars) {
    const ends = [-1, -1], out = [];
    for (const i of bars) {
      const e = ev[i], x1 = X(e[0] - e[5]), x2 = X(e[0]), row = ends[0] <= x1 ? 0 : ends[1] <= x1 ? 1 : 0, y = 23 + row * 14;
      ends[row] = x2;
      const title = `measure ${str[e[6]]}: ${x.dur(e[5])}, from ${x.at(e[0] - e[5])} to ${x.at(e[0])}`;
      out.push(x.svg("rect", { class: "tl-measure", "data-i": i, x: x1, y, width: Math.max(2, x2 - x1), height: 12 }, x.svg("title", {}, title)));
      const m = measureAt.get(i);
      if (m) for (let j = 0; j < m.phases.length; j++) out.push(...phaseOf(m, j, y));
    }
    return out;
  }
  // phaseOf is phase j of measure m as a segment of its bar: coloured by
  // its name (membership changes alternate shades), labelled when the
  // label fits, going on click to the event that ends it.
  function phaseOf(m, j, y) {
    const p = m.phases[j], a = X(p.start), b = X(p.end), wd = Math.max(1, b - a);
    const cls = "tl-phase tl-ph-" + p.name + (p.name === "membership" && j % 2 ? " tl-ph-alt" : "");
    const title = `${m.name}: ${p.label} ${x.dur(p.end - p.start)} (${x.at(p.start)} to ${x.at(p.end)}): ${x.phaseText(m, p)}; click: go to its end, ${x.eventText(ev[p.to])}`;
    const out = [x.svg("rect", { class: cls, "data-i": p.to, "data-phase": p.name, x: a, y, width: wd, height: 12 }, x.svg("title", {}, title))];
    const label = [p.label, shortLabel(p)].find((l) => wd >= l.length * 5 + 4);
    if (label) out.push(x.svg("text", { class: "tl-phase-label", x: a + 2, y: y + 9 }, label));
    return out;
  }
  // shortLabel is a phase's label for a narrow segment: a membership
  // change as -1 or +5, another phase by its first letters.
  function shortLabel(p) {
    if (p.name !== "membership") return p.label.slice(0, 3);
    return p.label.replace(/remove /g, "\u2212").replace(/add /g, "+").replace(/, /g, "");
  }
  function axis() {
    const { step, ticks } = niceTicks(first, end, w / 100), out = [x.svg("line", { class: "tl-axis", x1: 0, x2: w, y1: AXIS, y2: AXIS })];
    for (const t of ticks) {
      out.push(x.svg("line", { class: "tl-tick", x1: X(t), x2: X(t), y1: AXIS, y2: AXIS + 4 }));
      out.push(x.svg("text", { class: "tl-label", x: X(t) + 2, y: H - 2 }, tickLabel(t, step)));
    }
    return out;
  }
  function build() {
    w = Math.max(200, root.clientWidth || 800);
    x.set(root, { viewBox: `0 0 ${w} ${H}` });
    const { buckets, bars } = collect();
    const more = extra.map((m, j) => x.svg("rect", { class: "tl-mark " + m.cls, "data-x": j, x: X(m.t) - 1.5, y: 0, width: 4, height: AXIS }, x.svg("title", {}, m.title)));
    root.replaceChildren(band, ...axis(), ...barsOf(bars), ...[...buckets.values()].map(markOf), ...more, cursor);
  }
  function update(clock, view) {
    const px = X(clock), a = Math.max(0, X(view[0])), b = Math.min(w, X(view[1]));
    x.set(cursor, { x1: px, x2: px });
    x.set(band, { x: a, width: Math.max(0, b - a) });
  }
  root.onclick = (e) => {
    const xm = e.target.closest("[data-x]");
    if (xm) { extra[parseInt(xm.dataset.x, 10)].act(); return; }
    const m = e.target.closest("[data-i]");
    if (m) { x.seek(parseInt(m.dataset.i, 10) + 1); return; }
    const r = root.getBoundingClientRect();
    x.seekTime(first + ((e.clientX - r.left) / Math.max(1, r.width)) * span);
  };
  build();
  return { build, update };
}
