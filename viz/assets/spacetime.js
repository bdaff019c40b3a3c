// raftsim trace viewer: the space-time (Lamport) diagram. One lane per
// node, time flowing right; a message is an arrow from its send to its
// deliver, a lost one a dashed line ending in a cross (with the reason)
// at the instant it was lost, partway to its receiver; the time a
// delivered message was held (at its sender by retransmissions or a
// partition, at its receiver behind an earlier message) is an orange
// dashed stretch along that lane; role and term changes are marks on the lanes;
// faults are bars across the lanes they touch. Only the events of the
// visible window are scanned and drawn, on a canvas.
//
// This file, timeline.js and app.js are joined into the page's one
// script (viz.go): app.js calls makeSpacetime with what it shares.
"use strict";

// niceTicks is about count round times in [t0, t1] (ns) and their step.
function niceTicks(t0, t1, count) {
  const raw = Math.max(1, (t1 - t0) / Math.max(1, count)), p = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
  const ticks = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1 && ticks.length < 200; t += step) ticks.push(t);
  return { step, ticks };
}
// tickLabel writes t in seconds with as many decimals as step needs.
function tickLabel(t, step) {
  const digits = Math.max(0, Math.min(9, Math.ceil(-Math.log10(step / 1e9) - 1e-9)));
  return (t / 1e9).toFixed(digits) + " s";
}

// MSG_COLORS: a message type's colour, in the diagram and on the ring.
const MSG_COLORS = { app: "#457b9d", app_resp: "#8fb8d8", vote: "#e76f51", vote_resp: "#f4a261", prevote: "#9c6644",
  prevote_resp: "#d4a373", snap: "#6a4c93", snap_resp: "#b298dc", heartbeat: "#2a9d8f", heartbeat_resp: "#94d2bd" };
const MORE_COLORS = ["#118ab2", "#ef476f", "#8d99ae", "#06d6a0", "#e9c46a", "#577590"];
// TAB_COLORS: the browser states, as the legend shows them.
const TAB_COLORS = { closed: "#ccc", discarded: "#d7c4e8", reloading: "#ffe08a", frozen: "#bde0fe", hidden: "#e6e8eb", unjoined: "#fff" };
// HELD_COLOR: the held stretch of a late message, as the legend shows it.
const HELD_COLOR = "#f77f00";

// makeSpacetime draws the diagram in x.canvas. x: { T, ev, str, N, match,
// origin, sends, instants (a Map from event index to the trace's [event,
// lost, tx, rx] of a message the network held or lost), segments (per
// node, [time, browser state] changes),
// roleColor, seek(i), eventText(e), at(t), h, set, and optionally
// controls and kinds (the bar's; none: a diagram that follows another's,
// by mirror), first and end (the times "all" shows; T's by default),
// follower (the window does not follow the clock: it is
// mirrored), onView() (the window moved by view) and onChange() (about
// to redraw) }.
function makeSpacetime(x) {
  const { T, ev, str, N, match, origin, instants } = x, K = {};
  T.kinds.forEach((k, i) => { K[k] = i + 1; });
  const GUTTER = 34, AXIS = 18, LANE = 16, THIN = 5, MAXSCAN = 60000, LABELS = 120, CHUNK = 64;
  const canvas = x.canvas, wrap = canvas.parentElement, colors = Object.assign({}, MSG_COLORS);
  const first = x.first ?? ev[0][0], whole = Math.max(1000, (x.end ?? T.end) - first);
  const hb = heartbeats(), lat = latencies();
  const v = { t0: first, t1: first + initialSpan(), clock: 0, collapsed: new Uint8Array(N + 1), nodes: null, hidden: new Set(),
    hideHb: false, marks: { drops: true, roles: true, faults: true }, dirty: false, hits: [], counts: {}, lanes: [], w: 800 };

  // ---- what the trace holds ---------------------------------------------
  // heartbeats flags the messages that carry nothing new: an app whose
  // index (the entry before those it carries) is its sender's last log
  // index when sent, an app_resp whose index is not above the last its
  // sender acknowledged to that peer, and any heartbeat message. A
  // flagged send flags the deliver or drop ending it.
  function heartbeats() {
    const flag = new Uint8Array(ev.length), last = new Float64Array(N + 1), acked = new Map();
    for (let i = 0; i < ev.length; i++) {
      const e = ev[i], k = e[1], n = e[2];
      if (k === K.append && n <= N) last[n] = e[5];
      else if (k === K.snapshot && n <= N) last[n] = Math.max(last[n], e[5]);
      if (k !== K.send || !carriesNothing(e, last, acked)) continue;
      flag[i] = 1;
      if (match[i] >= 0) flag[match[i]] = 1;
    }
    return flag;
  }
  function carriesNothing(e, last, acked) {
    const msg = str[e[6]], n = e[2], idx = e[5];
    if (msg === "app") return idx >= (last[n] || 0);
    if (msg !== "app_resp") return /^heartbeat/.test(msg);
    const key = n + ">" + e[3], seen = acked.get(key);
    acked.set(key, Math.max(seen ?? -1, idx));
    return seen !== undefined && idx <= seen;
  }
  // latencies: the longest time from a send to its deliver or to its
  // loss (how far before the window arrows and crosses may start).
  function latencies() {
    let most = 0;
    for (const s of x.sends) {
      const j = match[s];
      if (j >= 0) most = Math.max(most, lostAt(j) - ev[s][0]);
    }
    return { most };
  }
  // lostAt is when the message whose deliver or drop is event j ended:
  // a drop's lost instant if the trace has one (it is traced at the
  // send), else the event's time.
  function lostAt(j) {
    const r = ev[j][1] === K.drop ? instants.get(j) : undefined;
    return r && r[1] > ev[j][0] ? r[1] : ev[j][0];
  }
  // initialSpan shows the whole trace if short, else about 4000 events.
  function initialSpan() { return ev.length <= 4000 ? whole : Math.max(1e6, (whole * 4000) / ev.length); }
  function colorOf(msg) {
    if (!Object.hasOwn(colors, msg)) colors[msg] = MORE_COLORS[Object.keys(colors).length % MORE_COLORS.length];
    return colors[msg];
  }
  // lowerBound: the first event at or after time t.
  function lowerBound(t) {
    let lo = 0, hi = ev.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (ev[m][0] < t) lo = m + 1; else hi = m; }
    return lo;
  }
  const upperBound = (t) => lowerBound(t + 1);

  // ---- geometry -------------------------------------------------------------
  const X = (t) => Math.max(-1e5, Math.min(1e5, GUTTER + ((t - v.t0) / (v.t1 - v.t0)) * (v.w - GUTTER)));
  const tAt = (px) => v.t0 + ((px - GUTTER) / (v.w - GUTTER)) * (v.t1 - v.t0);
  function layout() {
    let y = AXIS;
    for (let n = 1; n <= N; n++) {
      const hgt = v.collapsed[n] ? THIN : LANE;
      v.lanes[n] = { y, h: hgt, mid: y + hgt / 2 };
      y += hgt;
    }
    return y + 4;
  }
  function line(c, x1, y1, x2, y2) { c.beginPath(); c.moveTo(x1, y1); c.lineTo(x2, y2); c.stroke(); }
  // head adds an arrowhead at (x2, y2) to the current path.
  function head(c, x1, y1, x2, y2) {
    const a = Math.atan2(y2 - y1, x2 - x1), s = 6;
    c.moveTo(x2, y2);
    c.lineTo(x2 - s * Math.cos(a - 0.4), y2 - s * Math.sin(a - 0.4));
    c.lineTo(x2 - s * Math.cos(a + 0.4), y2 - s * Math.sin(a + 0.4));
    c.closePath();
  }
  // label writes s at (px, py) unless it would overlap a label already
  // written, or LABELS are.
  function label(c, s, px, py, color) {
    const wd = c.measureText(s).width;
    if (v.labels.length >= LABELS || v.labels.some((b) => px < b[0] + b[2] && b[0] < px + wd && Math.abs(b[1] - py) < 10)) return;
    v.labels.push([px, py, wd]);
    c.fillStyle = color;
    c.fillText(s, px, py);
  }
  function cross(c, px, py) { line(c, px - 4, py - 4, px + 4, py + 4); line(c, px - 4, py + 4, px + 4, py - 4); }

  // ---- drawing ----------------------------------------------------------------
  function render() {
    v.dirty = false;
    const w = Math.max(300, wrap.clientWidth), hgt = Math.min(32000, layout()), c = canvas.getContext("2d");
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== hgt) canvas.height = hgt;
    v.w = w;
    v.hits = [];
    v.labels = [];
    c.clearRect(0, 0, w, hgt);
    c.font = "10px system-ui, sans-serif";
    const counts = { lanes: 0, collapsed: 0, arrows: 0, held: 0, drops: 0, roles: 0, terms: 0, faults: 0, heartbeats: 0, truncated: false, t0: v.t0, t1: v.t1 };
    drawLanes(c, counts);
    drawAxis(c, hgt);
    const [lo, hi] = range();
    counts.truncated = hi - lo > MAXSCAN;
    x.set(x.note, { hidden: counts.truncated ? null : "" });
    if (!counts.truncated) drawEvents(c, lo, hi, counts);
    drawCursor(c, hgt);
    v.counts = counts;
  }
  // range is the events to scan: those in the window, and before it as
  // far as the longest delivery (but not past MAXSCAN more events).
  function range() {
    const hi = upperBound(v.t1), at0 = lowerBound(v.t0);
    return [Math.max(lowerBound(v.t0 - lat.most), at0 - MAXSCAN / 2), hi];
  }
  function drawLanes(c, counts) {
    for (let n = 1; n <= N; n++) {
      const L = v.lanes[n];
      drawStates(c, n, L);
      c.strokeStyle = "#bbb";
      c.setLineDash([]);
      line(c, GUTTER, L.mid, v.w, L.mid);
      c.fillStyle = "#333";
      if (v.collapsed[n]) { counts.collapsed++; c.fillRect(4, L.mid - 1, 8, 2); } else c.fillText("n" + n, 4, L.mid + 3);
      counts.lanes++;
    }
  }
  // drawStates shades a lane by the tab's browser state over time.
  function drawStates(c, n, L) {
    const segs = x.segments[n];
    for (let j = 0; j < segs.length; j++) {
      const [t, st] = segs[j], end = j + 1 < segs.length ? segs[j + 1][0] : T.end + whole;
      if (!st || end < v.t0 || t > v.t1) continue;
      c.fillStyle = TAB_COLORS[st] || "#eee";
      const x1 = Math.max(GUTTER, X(t)), x2 = Math.min(v.w, X(end));
      c.fillRect(x1, L.y + 1, x2 - x1, L.h - 2);
      if (st === "unjoined") { c.strokeStyle = "#999"; c.setLineDash([2, 3]); c.strokeRect(x1, L.y + 1, x2 - x1, L.h - 2); }
    }
  }
  function drawAxis(c, hgt) {
    const { step, ticks } = niceTicks(v.t0, v.t1, (v.w - GUTTER) / 110);
    c.setLineDash([]);
    for (const t of ticks) {
      const px = X(t);
      c.strokeStyle = "#eee";
      line(c, px, AXIS, px, hgt);
      c.fillStyle = "#555";
      c.fillText(tickLabel(t, step), px + 2, 11);
    }
  }
  function drawCursor(c, hgt) {
    if (v.clock < v.t0 || v.clock > v.t1) return;
    c.strokeStyle = "#d00";
    c.setLineDash([]);
    line(c, X(v.clock), 0, X(v.clock), hgt);
  }
  // drawEvents draws each message once: from its send if the send is in
  // range, else from its deliver or drop; lost messages and marks go on
  // top.
  function drawEvents(c, lo, hi, counts) {
    const marks = [];
    v.batches = new Map();
    v.lost = [];
    for (let i = lo; i < hi; i++) {
      const k = ev[i][1];
      if (k === K.send) message(c, i, match[i], counts);
      else if (k === K.deliver || k === K.drop) { if (origin[i] < lo) message(c, origin[i], i, counts); }
      else if ((k === K.role || k === K.term || k === K.fault) && ev[i][0] >= v.t0) marks.push(i);
    }
    flush(c);
    for (let j = 0; j < v.lost.length; j += 2) drop(c, v.lost[j], v.lost[j + 1], counts);
    for (const i of marks) mark(c, i, counts);
  }
  // batch is the list of arrows of one colour, dash pattern and width
  // (1 by default), drawn together by flush: a path per CHUNK arrows, not
  // one per arrow (nor one for all: a path of many crossing lines
  // strokes slowly). Dashed lines get no arrowheads.
  function batch(color, dash, width) {
    const key = color + "|" + dash + "|" + (width || 1);
    if (!v.batches.has(key)) v.batches.set(key, []);
    return v.batches.get(key);
  }
  function flush(c) {
    for (const [key, xs] of v.batches) {
      const [color, dash, width] = key.split("|");
      c.strokeStyle = c.fillStyle = color;
      c.lineWidth = Number(width);
      c.setLineDash(dash ? dash.split(" ").map(Number) : []);
      for (let j = 0; j < xs.length; j += 4 * CHUNK) {
        const to = Math.min(xs.length, j + 4 * CHUNK);
        c.beginPath();
        for (let k = j; k < to; k += 4) { c.moveTo(xs[k], xs[k + 1]); c.lineTo(xs[k + 2], xs[k + 3]); }
        c.stroke();
        c.beginPath();
        if (!dash) for (let k = j; k < to; k += 4) head(c, xs[k], xs[k + 1], xs[k + 2], xs[k + 3]);
        c.fill();
      }
    }
    c.lineWidth = 1;
  }
  function message(c, s, end, counts) {
    const dropped = end >= 0 && ev[end][1] === K.drop, i = s >= 0 ? s : end;
    if (s < 0 && !dropped) return; // a deliver with no send traced
    if (v.hideHb && hb[i]) { counts.heartbeats++; return; }
    if (!shown(ev[i]) || (dropped && !v.marks.drops)) return;
    if (dropped) v.lost.push(s, end); // drawn over the arrows
    else arrow(c, s, end, counts);
  }
  // shown: a message (a send or a drop: sender in node, receiver in peer)
  // passes the filters of type and node.
  function shown(e) {
    const from = e[2], to = e[3];
    if (from < 1 || to < 1 || from > N || to > N || v.hidden.has(str[e[6]])) return false;
    return !v.nodes || v.nodes.has(from) || v.nodes.has(to);
  }
  // arrow draws a message from its send to its deliver. A late one (its
  // deliver has tx or rx) flies from tx, when the transmission that got
  // through left, to rx, when it reached the receiver; the time before
  // tx on the sender's lane and after rx on the receiver's is drawn as
  // held (heldPart).
  function arrow(c, s, end, counts) {
    const e = ev[s], ts = e[0], te = end >= 0 ? ev[end][0] : T.end;
    if (ts > v.t1 || te < v.t0) return;
    const r = end >= 0 ? instants.get(end) : undefined;
    const tx = r && r[2] > ts && r[2] <= te ? r[2] : ts, rx = r && r[3] >= tx && r[3] < te ? r[3] : te;
    const x1 = X(tx), y1 = v.lanes[e[2]].mid, x2 = X(rx), y2 = v.lanes[e[3]].mid;
    // Dotted: never delivered nor dropped, in flight at the end.
    batch(colorOf(str[e[6]]), end >= 0 ? "" : "2 3").push(x1, y1, x2, y2);
    v.hits.push({ x1, y1, x2, y2, a: s, b: end >= 0 ? end : s });
    counts.arrows++;
    if (tx > ts) heldPart(end, e[2], ts, tx, y1);
    if (rx < te) heldPart(end, e[3], rx, te, y2);
    if (tx > ts || rx < te) counts.held++;
  }
  // heldPart draws the time [t0, t1] a message spent held on node's lane
  // (at y): thick, dashed, orange, just above the lane's line. Its hit
  // names the deliver (end), whose detail says why.
  function heldPart(end, node, t0, t1, y) {
    const x1 = X(t0), x2 = X(t1);
    batch(HELD_COLOR, "4 2", 2).push(x1, y - 3, x2, y - 3);
    v.hits.push({ x1, y1: y - 3, x2, y2: y - 3, a: end, b: end, held: str[ev[end][7]] || "held", node, t0, t1 });
  }
  // drop draws a lost message as a dashed line from its send to a cross
  // at the instant it was lost (lostAt: traced, or the drop's own time),
  // 60% of the way to its receiver; a message lost at its send gets
  // its cross just past the sender.
  function drop(c, s, d, counts) {
    const e = ev[d], ts = s >= 0 ? ev[s][0] : e[0], lost = lostAt(d);
    if (ts > v.t1 || lost < v.t0) return;
    const x1 = X(ts), y1 = v.lanes[e[2]].mid, y2 = v.lanes[e[3]].mid;
    const mx = Math.max(X(lost), x1 + 18), my = y1 + (y2 - y1) * 0.6;
    c.strokeStyle = colorOf(str[e[6]]);
    c.setLineDash([4, 3]);
    line(c, x1, y1, mx, my);
    c.strokeStyle = "#d00";
    c.lineWidth = 2;
    c.setLineDash([]);
    cross(c, mx, my);
    c.lineWidth = 1;
    if (str[e[7]]) label(c, str[e[7]], mx + 6, my - 3, "#b00");
    v.hits.push({ x1, y1, x2: mx, y2: my, a: s >= 0 ? s : d, b: d, cross: lost });
    counts.drops++;
  }
  function mark(c, i, counts) {
    const e = ev[i], k = e[1], n = e[2];
    if (k === K.fault) return fault(c, i, counts);
    if (!v.marks.roles || n < 1 || n > N || (v.nodes && !v.nodes.has(n))) return;
    const L = v.lanes[n], px = X(e[0]);
    c.setLineDash([]);
    c.strokeStyle = "#333";
    if (k === K.role) {
      c.fillStyle = x.roleColor[str[e[7]]] || "#eee";
      c.fillRect(px - 4, L.mid - 4, 8, 8);
      c.strokeRect(px - 4, L.mid - 4, 8, 8);
      counts.roles++;
    } else {
      line(c, px, L.y, px, L.y + L.h);
      if (!v.collapsed[n]) { c.fillStyle = "#333"; c.fillText("t" + e[4], px + 2, L.y + 9); }
      counts.terms++;
    }
    v.hits.push({ x: px, y: L.mid, a: i });
  }
  // faultLanes: the lanes a fault touches, [top, bottom]; a cluster-wide
  // fault (node 0) touches all, a connection's or a fragmented
  // message's both ends, any other its node.
  function faultLanes(e, det) {
    const n = e[2];
    if (!n) return [1, N];
    const other = det.startsWith("conn ") ? parseInt(det.slice(5), 10) : det === "fragmented" ? e[3] : n;
    const a = Math.min(n, other || n), b = Math.max(n, other || n);
    return a >= 1 && b <= N ? [a, b] : [0, 0];
  }
  function fault(c, i, counts) {
    const e = ev[i], det = str[e[7]], [a, b] = faultLanes(e, det);
    if (!v.marks.faults || !a || (e[2] && v.nodes && !v.nodes.has(a) && !v.nodes.has(b))) return;
    const px = X(e[0]), top = e[2] ? v.lanes[a].y : 0, bot = v.lanes[b].y + v.lanes[b].h, conn = det.startsWith("conn ");
    c.strokeStyle = conn ? "#999" : "#e63946";
    c.lineWidth = conn ? 1 : 2;
    c.setLineDash(e[2] ? [] : [5, 3]);
    line(c, px, top, px, bot);
    c.lineWidth = 1;
    if (!conn) label(c, det.slice(0, 24), px + 3, e[2] ? v.lanes[a].mid + 3 : 11, "#c1121f");
    v.hits.push({ x1: px, y1: top, x2: px, y2: bot, a: i, b: i });
    counts.faults++;
  }

  // ---- interaction ------------------------------------------------------------
  function schedule() {
    if (x.onChange) x.onChange();
    if (v.dirty) return;
    v.dirty = true;
    requestAnimationFrame(() => { if (v.dirty) render(); });
  }
  function segDist(hit, px, py) {
    const dx = hit.x2 - hit.x1, dy = hit.y2 - hit.y1, l2 = dx * dx + dy * dy;
    const f = l2 ? Math.max(0, Math.min(1, ((px - hit.x1) * dx + (py - hit.y1) * dy) / l2)) : 0;
    return (hit.x1 + f * dx - px) ** 2 + (hit.y1 + f * dy - py) ** 2;
  }
  // hitAt is the drawing nearest (px, py), within 6 px, a mark before a
  // line 3 px nearer; null: none.
  function hitAt(px, py) {
    let best = null, bd = 36;
    for (const hit of v.hits) {
      const d = hit.x1 === undefined ? (hit.x - px) ** 2 + (hit.y - py) ** 2 : segDist(hit, px, py) + 9;
      if (d <= bd) { bd = d; best = hit; }
    }
    return best;
  }
  // eventAt is the event drawn nearest (px, py): of a line, the end
  // nearer the point. -1: none.
  function eventAt(px, py) {
    const best = hitAt(px, py);
    if (!best) return -1;
    if (best.x1 === undefined) return best.a;
    return (best.x1 - px) ** 2 + (best.y1 - py) ** 2 < (best.x2 - px) ** 2 + (best.y2 - py) ** 2 ? best.a : best.b;
  }
  // hitTitle is the hover text of a drawing: its event's description at
  // the event's time; for a held stretch, also where and how long it was
  // held; for a cross, the instant the message was lost (its drop is
  // traced at the send).
  function hitTitle(hit, i) {
    const e = ev[i], text = x.eventText(e);
    if (hit.held) return `${x.at(e[0])}: ${text} (held at node ${hit.node} from ${x.at(hit.t0)} to ${x.at(hit.t1)}: ${hit.held})`;
    if (i === hit.b && hit.cross > e[0]) return `${x.at(hit.cross)}: ${text} (lost then; its fate was decided at the send, ${x.at(e[0])})`;
    return x.at(e[0]) + ": " + text;
  }
  function point(e) { const r = canvas.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; }
  function onClick(e) {
    const [px, py] = point(e);
    if (px < GUTTER) { toggleLane(py); return; }
    const i = eventAt(px, py);
    if (i >= 0) x.seek(i + 1);
  }
  function onHover(e) {
    const [px, py] = point(e), i = eventAt(px, py);
    x.set(canvas, { title: i >= 0 ? hitTitle(hitAt(px, py), i) : px < GUTTER ? "click a lane to collapse or expand it" : null });
  }
  function toggleLane(py) {
    for (let n = 1; n <= N; n++) if (py >= v.lanes[n].y && py < v.lanes[n].y + v.lanes[n].h) v.collapsed[n] ^= 1;
    schedule();
  }
  // onWheel: shift+wheel pans; ctrl+wheel, or the wheel when the lanes
  // need no scrolling, zooms round the pointer.
  function onWheel(e) {
    if (!e.shiftKey && !e.ctrlKey && !e.metaKey && wrap.scrollHeight > wrap.clientHeight) return; // scroll the lanes
    e.preventDefault();
    if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) pan(Math.sign(e.deltaX || e.deltaY) * 0.2);
    else zoom(e.deltaY < 0 ? 0.8 : 1.25, tAt(point(e)[0]));
  }
  // zoom scales the window by f round time tc; pan moves it by f of it.
  function zoom(f, tc) {
    const span = Math.max(1000, Math.min(whole * 1.2, (v.t1 - v.t0) * f));
    tc = tc ?? (v.t0 + v.t1) / 2;
    view(tc - ((tc - v.t0) / (v.t1 - v.t0)) * span, null, span);
  }
  function pan(f) { const s = v.t1 - v.t0; view(v.t0 + f * s, null, s); }
  // view shows [t0, t1] (or [t0, t0 + span]).
  function view(t0, t1, span) {
    span = Math.max(1000, span ?? t1 - t0);
    v.t0 = t0;
    v.t1 = t0 + span;
    schedule();
    if (x.onView) x.onView();
    return [v.t0, v.t1];
  }
  // follow moves the window to keep the playback clock in view when the
  // clock moves out of it (not when the window was moved off the clock).
  function follow(t) {
    const moved = t !== v.clock;
    v.clock = t;
    if (moved && !x.follower && (t < v.t0 || t > v.t1)) { const s = v.t1 - v.t0; v.t0 = t - s * 0.3; v.t1 = v.t0 + s; }
    schedule();
  }
  function parseNodes(s) {
    const out = new Set();
    for (const part of s.split(/[\s,]+/).filter(Boolean)) {
      const [a, b] = part.split("-").map((p) => parseInt(p, 10));
      for (let n = a; n <= (b || a) && n <= N; n++) if (n >= 1) out.add(n);
    }
    return out.size ? out : null;
  }
  function collapse(all) {
    for (let n = 1; n <= N; n++) v.collapsed[n] = all && (!v.nodes || !v.nodes.has(n)) ? 1 : 0;
    schedule();
  }
  // filterBox is a labelled checkbox; on change, set(checked).
  function filterBox(label, color, set) {
    const box = x.h("input", { type: "checkbox", checked: "" }), sw = x.h("span", { class: "st-sw" });
    if (color) sw.style.background = color; // CSSOM, which the policy allows
    box.onchange = () => { set(box.checked); schedule(); };
    return x.h("label", { class: "st-kind" }, box, color ? sw : null, label);
  }
  function buildFilters() {
    const ids = new Set();
    for (const s of x.sends) ids.add(ev[s][6]);
    const types = [...ids].map((m) => str[m]).sort();
    const boxes = types.map((m) => filterBox(m, colorOf(m), (on) => { if (on) v.hidden.delete(m); else v.hidden.add(m); }));
    boxes.push(filterBox("drops", null, (on) => { v.marks.drops = on; }), filterBox("roles & terms", null, (on) => { v.marks.roles = on; }),
      filterBox("faults", null, (on) => { v.marks.faults = on; }));
    x.kinds.replaceChildren(...boxes);
  }
  function bind(c) {
    canvas.onclick = onClick;
    canvas.onmousemove = onHover;
    canvas.onwheel = onWheel;
    if (!c) return;
    c.zoomIn.onclick = () => zoom(0.5);
    c.zoomOut.onclick = () => zoom(2);
    c.all.onclick = () => view(first, null, whole);
    c.left.onclick = () => pan(-0.5);
    c.right.onclick = () => pan(0.5);
    c.nodes.oninput = () => { v.nodes = parseNodes(c.nodes.value); schedule(); };
    c.hb.onchange = () => { v.hideHb = c.hb.checked; schedule(); };
    c.expand.onclick = () => collapse(false);
    c.collapse.onclick = () => collapse(true);
  }
  if (x.controls) buildFilters();
  bind(x.controls);
  if (N > 64) v.collapsed.fill(1); // every lane expanded would not fit
  schedule();

  // counts: what the last drawing holds (drawn now if out of date).
  function counts() { if (v.dirty) render(); return Object.assign({ hits: v.hits.length }, v.counts); }
  // hitPoint: a client point on the drawing of event i (an arrow's end
  // near i, or i's mark), scrolled into view; null if not drawn.
  function hitPoint(i) {
    if (v.dirty) render();
    const hit = v.hits.find((h) => h.a === i || h.b === i);
    if (!hit) return null;
    const f = hit.x1 === undefined ? 0 : hit.b === i && hit.a !== i ? 0.85 : 0.15;
    const px = hit.x1 === undefined ? hit.x : hit.x1 + (hit.x2 - hit.x1) * f, py = hit.x1 === undefined ? hit.y : hit.y1 + (hit.y2 - hit.y1) * f;
    wrap.scrollTop = Math.max(0, py - wrap.clientHeight / 2);
    const r = canvas.getBoundingClientRect();
    return { x: r.left + px, y: r.top + py };
  }
  // shape: the drawing of message event i (its send, deliver or drop) in
  // client coordinates: { cross: {t, x, y} (a lost message's cross at
  // instant t) or null, held: [{why, node, t0, t1, x1, x2, y}] (the held
  // stretches) }; null if not drawn.
  function shape(i) {
    if (v.dirty) render();
    const hits = v.hits.filter((h) => h.x1 !== undefined && (h.a === i || h.b === i));
    if (!hits.length) return null;
    const r = canvas.getBoundingClientRect(), out = { cross: null, held: [] };
    for (const h of hits) {
      if (h.cross !== undefined) out.cross = { t: h.cross, x: r.left + h.x2, y: r.top + h.y2 };
      if (h.held) out.held.push({ why: h.held, node: h.node, t0: h.t0, t1: h.t1, x1: r.left + h.x1, x2: r.left + h.x2, y: r.top + h.y1 });
    }
    return out;
  }
  // settings: the window and the filters, which mirror copies into a
  // diagram that follows this one (the second trace's, on a page of two).
  function settings() { return { t0: v.t0, t1: v.t1, hidden: v.hidden, nodes: v.nodes, hideHb: v.hideHb, marks: v.marks }; }
  function mirror(s) {
    Object.assign(v, { t0: s.t0, t1: s.t1, hidden: new Set(s.hidden), nodes: s.nodes && new Set([...s.nodes].filter((n) => n <= N)), hideHb: s.hideHb,
      marks: Object.assign({}, s.marks) });
    if (v.nodes && !v.nodes.size) v.nodes = new Set([0]); // a filter of nodes this trace lacks keeps nothing
    schedule();
  }
  return { counts, hitPoint, shape, follow, view, zoom, color: colorOf, window: () => [v.t0, v.t1], resize: schedule, heartbeat: (i) => hb[i] === 1,
    settings, mirror };
}
