// raftsim trace viewer: replays a trace event by event. State at any
// event is rebuilt from the nearest snapshot (one every SNAP events), so
// seeking stays fast on long traces; stepping applies one event and
// updates the drawing in place. A page of two traces (A and B) replays
// both on one clock, each with its own ring, diagram, detail and logs
// (makeViewer), and marks where they first differ.
//
// Scripting API (for tests, the console and tools driving a browser):
//   window.raftsim.ready      true once the trace is loaded and drawn
//   window.raftsim.readyMs    when it became ready: ms since the page's
//                             navigation started (performance.now())
//   window.raftsim.nodes      the cluster's node ids, [1, 2, ..., N]
//                             (clients are not nodes)
//   window.raftsim.index()    the position: how many events are applied
//                             (0: none; the current event is the last
//                             applied one, number index() of the trace)
//   window.raftsim.seek(i)    go to position i (clamped to 0..events);
//                             returns the position reached
//   window.raftsim.explain()  one line explaining the current event from
//                             the trace before it, e.g. "node 6 timed
//                             out: nothing from leader 1 for 476 ms"
//   window.raftsim.clock()    the playback clock (virtual ns) the page is
//                             drawn at: an event's time, or between two
//                             during playback
//   window.raftsim.seekTime(t) draw at clock t: every event at or before
//                             t applied, messages and timers as at t
//   window.raftsim.diagram()  what the space-time diagram draws now:
//                             { lanes, collapsed, arrows, drops, roles,
//                             terms, faults, heartbeats (hidden), t0, t1,
//                             truncated (too many events: zoom in) }
//   window.raftsim.diagramShape(i) how the diagram draws message event i
//                             (0-based): { cross: {t, x, y} (a lost
//                             message's cross, at instant t) or null,
//                             held: [{why, node, t0, t1, x1, x2, y}] (the
//                             stretches a late message was held) }, in
//                             client coordinates; null if not drawn
//   window.raftsim.diagramPoint(i) a client point {x, y} on the drawing
//                             of event i (0-based) in the diagram, or null
//   window.raftsim.diagramView(t0, t1) show [t0, t1] in the diagram
//   window.raftsim.compare()  with two traces, where they first differ:
//                             { firstDiffIndex (0-based; -1: the same
//                             events), firstDiffTimeA, firstDiffTimeB
//                             (null: that trace has ended),
//                             firstStateDiffTime, firstStateDiffNode
//                             (roles and terms) }; null with one trace
//   window.raftsim.measures() the measures, each { event (0-based), name,
//                             start, end, phases: [{ name, label, start,
//                             end, from, to }] } (computed in Go: Measure)
//   window.raftsim.operations() the client operations, each { client,
//                             node, seq, op, key, call, end (0-based
//                             events; end -1: none), result ("return",
//                             "gave up" or "") } (Go: Operation)
//   window.raftsim.other      with two traces, trace B: { name, nodes,
//                             index(), clock(), explain(), diagram() };
//                             null with one
// With two traces, index(), seek(), explain() and the diagram functions
// are trace A's; clock() and seekTime() are the shared clock's.
// window.raftsimReady and window.raftsimGo(i) are older names for
// raftsim.ready and raftsim.seek(i), kept for existing scripts.
"use strict";
(function () {
  const ROLE_COLOR = { follower: "#cfe3ff", precandidate: "#fff2b3", candidate: "#ffd166", leader: "#7bd389" };
  const TERM_COLORS = ["#8ecae6", "#ffb703", "#90be6d", "#f28482", "#b5838d", "#84a59d", "#cdb4db", "#e9c46a"];
  const SPEEDS = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100];
  // MAX_FRAME_MS: a frame that comes later than this (a stalled machine,
  // a tab in the background) moves playback on as if this much had
  // passed, so playback never leaps over what it should show.
  const MAX_FRAME_MS = 50;
  // KEEP: log entries kept per node (the panel shows the last W). Keeping
  // whole logs would make every snapshot of a long trace hold every
  // node's whole log: gigabytes for a million events.
  const KEEP = 256, W = 60;
  const $ = (id) => document.getElementById(id);
  // A is the trace's viewer (with two traces, the first's); B the
  // second's, or null. clock is the playback clock both are drawn at;
  // selected, the node the detail panels show.
  let A, B = null, diff = null, clock = 0, end = 0, selected = 1, tl;
  let playing = false, speed = SPEEDS.indexOf(1), lastFrame = 0;
  const api = { ready: false, nodes: [], index: () => A.pos(), seek: (i) => { go(Number(i) || 0); return A.pos(); }, explain: () => A.explain(),
    clock: () => clock, seekTime: (t) => { seekTime(Number(t) || 0); return A.pos(); }, diagram: () => A.st.counts(),
    diagramPoint: (i) => A.st.hitPoint(Number(i)), diagramShape: (i) => A.st.shape(Number(i)), diagramView: (t0, t1) => A.st.view(Number(t0), Number(t1)),
    compare: () => (diff ? Object.assign({}, diff) : null), other: null,
    measures: () => JSON.parse(JSON.stringify(A.T.measures || [])), operations: () => JSON.parse(JSON.stringify(A.T.operations || [])) };
  window.raftsim = api;
  function fail(msg) {
    const e = $("error");
    e.hidden = false;
    e.textContent = "Cannot show this trace: " + msg;
  }
  // ---- words --------------------------------------------------------------
  // dur is a span of virtual nanoseconds for people; at, a time.
  function dur(ns) {
    const a = Math.abs(ns);
    if (a < 1e3) return ns + " ns";
    if (a < 1e6) return (ns / 1e3).toFixed(0) + " µs";
    if (a < 1e9) return (ns / 1e6).toFixed(0) + " ms";
    return (ns / 1e9).toFixed(3) + " s";
  }
  const at = (t) => (t / 1e9).toFixed(3) + " s";
  const kib = (b) => (b / 1024).toFixed(0) + " KiB";
  // tabState is a tab's browser state, as the legend names it ("": none
  // of them, a joined tab in the foreground): closed (killed), discarded
  // (unloaded by the browser, until it reloads), reloading (reopened
  // after a discard, with no role, term or entry traced since), not yet
  // joined (unjoined: no role, term or entry yet), frozen, hidden.
  const tabState = (nd) => (nd.vis === "discarded" ? "discarded" : !nd.alive ? "closed" : nd.reloading ? "reloading"
    : !nd.joined ? "unjoined" : nd.vis === "frozen" || nd.vis === "hidden" ? nd.vis : "");
  // status is what a node is, as the page names it.
  function status(nd) {
    const s = tabState(nd);
    return s === "unjoined" ? "not yet joined" : s && s !== "hidden" && s !== "frozen" ? s : nd.role;
  }

  // ---- building the document ---------------------------------------------------
  // Every element is built here: attributes by setAttribute, content by
  // append, where a string becomes a text node. Nothing is ever parsed as
  // markup (no innerHTML), so a string from the trace reaches the page
  // only as text. Handlers and inline styles are refused: the page's
  // Content-Security-Policy would block them, and trace data must not
  // reach them.
  const SVG_NS = $("ring").namespaceURI; // SVG's, from the page: no URL in the page
  function make(ns, tag, attrs, kids) {
    const e = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
    for (const a in attrs) {
      if (/^(on|style$|href$|src$)/i.test(a)) throw new Error("refused attribute " + a);
      if (attrs[a] != null) e.setAttribute(a, String(attrs[a]));
    }
    for (const k of kids) if (k != null) e.append(k instanceof Node ? k : String(k));
    return e;
  }
  const h = (tag, attrs, ...kids) => make(null, tag, attrs, kids);
  const svg = (tag, attrs, ...kids) => make(SVG_NS, tag, attrs, kids);
  // set and text change an element only if the value differs: stepping
  // then touches only what the event changed.
  function set(e, attrs) {
    for (const a in attrs) {
      if (/^(on|style$|href$|src$)/i.test(a)) throw new Error("refused attribute " + a);
      const v = attrs[a];
      if (v == null) { if (e.hasAttribute(a)) e.removeAttribute(a); }
      else if (e.getAttribute(a) !== String(v)) e.setAttribute(a, String(v));
    }
  }
  function text(e, s) { if (e.textContent !== s) e.textContent = s; }

  // ---- one trace ---------------------------------------------------------------
  // makeViewer replays trace T in its own part of the page: the elements
  // whose ids are p + the trace's ids ("" for the first trace, "b-" for
  // the second: b-ring, b-log-rows, ...; missing ones are not drawn).
  // tag follows the detail panel's node ("" with one trace, " (A)" or
  // " (B)"), label names the trace on its ring (none: ""). hooks: seek(i)
  // (a click on the diagram), onView (the diagram's window moved),
  // onChange (the diagram is to be redrawn), and first and end (the span
  // of both traces, for the diagram's "all"; undefined: this trace's).
  function makeViewer(T, p, tag, label, hooks) {
    const el = (id) => document.getElementById(p + id);
    const ev = T.events, str = T.strings, N = Math.max(1, T.nodes);
    // instants: the trace's lost, tx and rx of the messages the network
    // held or lost, [event, lost, tx, rx] by event index.
    const instants = new Map((T.instants || []).map((r) => [r[0], r]));
    let SNAP, snaps = [], sends = [], segments = [], match, origin, pos = 0, state, vtime = 0, st;
    const view = { nodes: [], rows: [] };
    const kindOf = (e) => T.kinds[e[1] - 1];
    const measureAt = new Map((T.measures || []).map((m) => [m.event, m])); // measures by event, with their phases
    const K = {}; // kind numbers by name, for the loops over many events
    T.kinds.forEach((k, i) => { K[k] = i + 1; });
    // ---- state ------------------------------------------------------------
    // A node is "joined" from its first role, term or append event: before
    // that it is a tab that has no Raft state yet (dynamic start-up), not a
    // follower at term 0. off is the index of log[0].
    function fresh() {
      const nodes = [];
      for (let i = 0; i <= N; i++) {
        nodes.push({ storage: 0, role: "follower", term: 0, commit: 0, applied: 0, last: 0, first: 1, off: 1, voters: "", vis: "foreground",
          alive: true, joined: false, reloading: false, log: [], timers: Object.create(null), acked: {}, sent: {} });
      }
      return { nodes, cuts: {}, partition: "" };
    }
    function clone(s) {
      return { nodes: s.nodes.map((n) => Object.assign({}, n, { log: n.log.slice(), timers: Object.assign(Object.create(null), n.timers),
        acked: Object.assign({}, n.acked), sent: Object.assign({}, n.sent) })), cuts: Object.assign({}, s.cuts), partition: s.partition };
    }
    // apply changes s by event e; it changes no node but e's own (node
    // e[2]), which lets a step redraw only that node's log row.
    function apply(s, e) {
      const [t, , n, p, term, idx, msgI, detI] = e;
      const k = kindOf(e), nd = s.nodes[n], msg = str[msgI], det = str[detI];
      if (k === "fault") { applyFault(s, n, det); return; }
      if (!nd) return;
      switch (k) {
        case "role": nd.role = det; nd.joined = true; nd.reloading = false; break;
        case "term": nd.term = term; nd.joined = true; nd.reloading = false; break;
        case "append": appendEntries(nd, idx, term, parseInt(det, 10) || 1); nd.joined = true; nd.reloading = false; break;
        case "commit": nd.commit = idx; break;
        case "storage": nd.storage = idx; break;
        case "apply": nd.applied = idx; break;
        case "config": nd.voters = det; break;
        case "timer_set": nd.timers[msg] = { at: t, due: t + idx }; break;
        case "timer_fire": delete nd.timers[msg]; break;
        case "snapshot": snapshot(nd, idx, det === "installed"); break;
        case "send": if (msg === "app") nd.sent[p] = idx + 1; break; // the append's next index
        case "deliver": if (msg === "app_resp") nd.acked[p] = Math.max(nd.acked[p] || 0, idx); break;
      }
    }
    // appendEntries writes cnt entries of term ending at index idx,
    // truncating any after them, and keeps at most 2*KEEP entries.
    function appendEntries(nd, idx, term, cnt) {
      const from = idx - cnt + 1, keep = from - nd.off;
      if (keep < 0 || keep > nd.log.length || cnt > KEEP) { nd.log = []; nd.off = Math.max(from, idx - KEEP + 1); }
      else nd.log.length = keep;
      while (nd.off + nd.log.length <= idx) nd.log.push(term);
      if (nd.log.length > 2 * KEEP) { const cut = nd.log.length - KEEP; nd.log = nd.log.slice(cut); nd.off += cut; }
      nd.last = idx;
    }
    function snapshot(nd, idx, installed) {
      if (installed || idx + 1 > nd.off + nd.log.length) { nd.log = []; nd.off = idx + 1; nd.last = Math.max(nd.last, idx); }
      else if (idx + 1 > nd.off) { nd.log = nd.log.slice(idx + 1 - nd.off); nd.off = idx + 1; }
      nd.first = idx + 1;
    }
    function applyFault(s, n, det) {
      const nd = s.nodes[n];
      if (n === 0 || !nd) {
        if (det.startsWith("partition")) { s.partition = det; s.cuts = cutsOf(det); }
        else if (det === "heal") { s.partition = ""; s.cuts = {}; }
        return;
      }
      if (det === "kill") { nd.alive = false; nd.timers = Object.create(null); nd.role = "follower"; nd.reloading = false; }
      else if (det === "restart") { nd.alive = true; if (nd.vis === "discarded") { nd.vis = "foreground"; nd.reloading = true; } }
      else if (det.startsWith("visibility ")) { if (!det.endsWith("ignored: discarded")) nd.vis = det.split(" ")[1]; }
      else if (det === "discard") nd.vis = "discarded";
      else if (det.startsWith("reload failed")) nd.vis = "foreground"; // closed
      else if (det.startsWith("cut to ")) s.cuts[n + ">" + det.slice(7)] = true;
      else if (det === "blackhole") for (let i = 1; i <= N; i++) { s.cuts[n + ">" + i] = true; s.cuts[i + ">" + n] = true; }
    }
    function cutsOf(det) {
      const cuts = {}, groups = det.slice(det.indexOf("[") + 1, det.lastIndexOf("]")).split("] [").map((g) => g.replace(/[\[\]]/g, "").split(" ").filter(Boolean));
      groups.forEach((a, i) => groups.forEach((b, j) => { if (i !== j) a.forEach((x) => b.forEach((y) => { cuts[x + ">" + y] = true; })); }));
      return cuts;
    }
    // stateAt returns the state after events [0, i).
    function stateAt(i) {
      const si = Math.min(Math.floor(i / SNAP), snaps.length - 1);
      const s = clone(snaps[si]);
      for (let j = si * SNAP; j < i; j++) apply(s, ev[j]);
      return s;
    }
    // ---- messages in flight -------------------------------------------------
    // matchMessages pairs each send with its deliver or drop: match[send] is
    // the event ending it, origin[end] the send. A deliver names the
    // receiver first (node = receiver, peer = sender); a send and a drop
    // name the sender first.
    function matchMessages() {
      // Pending sends by a 30-bit hash of their key (number keys: no
      // string per event); a bucket is searched for the first send with
      // the same fields, which is its head unless two keys collide.
      const pending = new Map(), kS = K.send, kD = K.deliver, kX = K.drop;
      match = new Int32Array(ev.length).fill(-1);
      origin = new Int32Array(ev.length).fill(-1);
      for (let i = 0; i < ev.length; i++) {
        const e = ev[i], k = e[1];
        if (k !== kS && k !== kD && k !== kX) continue;
        const from = k === kD ? e[3] : e[2], to = k === kD ? e[2] : e[3];
        let h = Math.imul(from ^ 0x5bd1e995, 0x9e3779b1) ^ to;
        h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) ^ e[6];
        h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) ^ e[4];
        h = Math.imul(h ^ (h >>> 16), 0x27d4eb2f) ^ e[5];
        h = (h ^ (h >>> 15)) & 0x3fffffff;
        const q = pending.get(h);
        if (k === kS) {
          if (q) q.push(i); else pending.set(h, [i]);
          sends.push(i);
          continue;
        }
        if (!q) continue;
        for (let j = 0; j < q.length; j++) {
          const s = ev[q[j]];
          if (s[2] !== from || s[3] !== to || s[6] !== e[6] || s[4] !== e[4] || s[5] !== e[5]) continue;
          const si = q[j];
          match[si] = i;
          origin[i] = si;
          if (q.length === 1) pending.delete(h);
          else if (j === 0) q.shift();
          else q.splice(j, 1);
          break;
        }
      }
    }
    // ends is a message event's [sender, receiver].
    const ends = (e) => (kindOf(e) === "deliver" ? [e[3], e[2]] : [e[2], e[3]]);
    // lostAt is when the message whose drop is event j was lost: its
    // lost instant if traced (a drop is traced at the send), else the
    // drop's time.
    function lostAt(j) {
      const r = instants.get(j);
      return r && r[1] > ev[j][0] ? r[1] : ev[j][0];
    }
    // inFlight is the messages sent before position i and not ended by
    // clock t (a dropped one flies until it is lost), with how far each
    // has gone (frac) at t: a late one stays at its sender until the
    // transmission that got through (tx) and reaches its receiver's end
    // at rx, where it waits (held says why).
    function inFlight(i, t) {
      const out = [];
      let lo = 0, hi = sends.length;
      while (lo < hi) { const m = (lo + hi) >> 1; if (sends[m] < i) lo = m + 1; else hi = m; }
      for (let j = lo - 1, seen = 0; j >= 0 && seen < 4000; j--, seen++) {
        const si = sends[j], end = match[si];
        const dropped = end >= 0 && ev[end][1] === K.drop, te = end < 0 ? T.end : dropped ? lostAt(end) : ev[end][0];
        if (end >= 0 && end < i && (!dropped || te <= t)) continue;
        const e = ev[si], r = end >= 0 && !dropped ? instants.get(end) : undefined;
        const t0 = r && r[2] > e[0] ? r[2] : e[0], t1 = r && r[3] > t0 && r[3] < te ? r[3] : te;
        // A lost one goes 60% of the way, where drawLost then marks it.
        const frac = (t <= t0 ? 0 : t >= t1 ? 1 : (t - t0) / (t1 - t0)) * (dropped ? 0.6 : 1), held = r && (t < t0 || t > t1) ? str[ev[end][7]] : "";
        out.push({ from: e[2], to: e[3], msg: str[e[6]], term: e[4], idx: e[5], frac, dropped, held });
      }
      return out;
    }

    // actors names who an event concerns: messages sender→receiver, cluster
    // faults "cluster", client events their tab and client.
    function actors(e, k) {
      const [, , n, p] = e;
      if (k === "send" || k === "deliver" || k === "drop") { const [from, to] = ends(e); return `${from}→${to}`; }
      if (k === "fault") return n ? "n" + n + (p ? "→" + p : "") : "cluster";
      if (k === "client") return "n" + n + (p ? " client " + p : "");
      return n ? "n" + n : "";
    }
    // idxText renders the index field by what it holds for the kind.
    function idxText(e, k, det) {
      const [t, , , , , idx] = e;
      if (!idx) return "";
      switch (k) {
        case "timer_set": return `in ${dur(idx)} (due ${at(t + idx)})`;
        case "measure": return dur(idx);
        case "storage": return kib(idx);
        case "client": return "#" + idx;
        case "fault": return det === "fragmented" ? idx + " fragments" : det.startsWith("storage") ? kib(idx) : "idx " + idx;
      }
      return "idx " + idx;
    }
    function eventText(e) {
      const k = kindOf(e), msg = str[e[6]], det = str[e[7]];
      const shownDet = k === "measure" && /^[\d.]+$/.test(det) ? "" : det; // a measure's detail repeats its index in seconds
      return [k, actors(e, k), msg, e[4] ? "term " + e[4] : "", idxText(e, k, det), shownDet].filter(Boolean).join(" ");
    }

    // ---- explanations ---------------------------------------------------------
    // back is the index of the last event before i, not before lo, that
    // passes test; -1 if none.
    function back(i, test, lo) {
      for (let j = i - 1; j >= (lo || 0); j--) if (test(ev[j])) return j;
      return -1;
    }
    const isLeaderMsg = (m) => /^(app|heartbeat|snap)/.test(m) && !/resp$/.test(m);
    const nodeFault = (n, d) => (x) => x[2] === n && kindOf(x) === "fault" && str[x[7]] === d;
    function explain(i) {
      if (i <= 0) return "The start of the trace: no event yet.";
      const e = ev[i - 1], k = kindOf(e);
      if (k === "role") return explainRole(i - 1);
      if (k === "fault") return explainFault(e);
      if (k === "term") return explainTerm(i - 1);
      if (k === "measure" && measureAt.has(i - 1)) return explainMeasure(measureAt.get(i - 1));
      return describe(i - 1, k);
    }
    // explainMeasure lists a measure's phases (T.measures, from Go): how
    // long each took and what it waited for.
    function explainMeasure(m) {
      const head = `measure ${m.name}: ${dur(m.end - m.start)}`;
      if (!m.phases.length) return head;
      const parts = [], mem = m.phases.filter((p) => p.name === "membership");
      for (const p of m.phases) {
        if (p.name !== "membership") parts.push(`${p.name} ${dur(p.end - p.start)} (${phaseText(m, p)})`);
        else if (p === mem[0]) {
          const total = mem[mem.length - 1].end - mem[0].start;
          parts.push(`membership ${dur(total)} (${mem.map((q) => q.label + " " + dur(q.end - q.start)).join(", ")})`);
        }
      }
      return head + " = " + parts.join(" + ");
    }
    // phaseText says what phase p of measure m waited for, from the
    // events at its ends.
    function phaseText(m, p) {
      const to = ev[p.to], who = "node " + to[2];
      switch (p.name) {
        case "detection": {
          const from = p.from >= 0 ? ev[p.from] : null, what = from && kindOf(from) === "fault" ? str[from[7]] : "the start";
          return `from ${what} until ${kindOf(to) === "timer_fire" ? who + "'s election timer fires" : who + " becomes " + str[to[7]]}`;
        }
        case "election": return `until ${who} becomes leader of term ${to[4]}`;
        case "membership": return `until every node holds voters ${str[to[7]]} (the last: ${who})`;
        case "poll": return "until the harness's next check of its condition, every 100 ms";
      }
      return p.label;
    }
    function explainRole(i) {
      const e = ev[i], role = str[e[7]];
      if (role === "candidate" || role === "precandidate") return explainTimeout(i);
      if (role === "leader") return explainWin(i);
      if (role === "follower") return explainFollower(i);
      return `node ${e[2]} becomes ${role} in term ${e[4]}`;
    }
    // explainTimeout: a follower stands for election when it heard nothing
    // from a leader for an election timeout.
    function explainTimeout(i) {
      const [t, , n, , term] = ev[i], role = str[ev[i][7]];
      const r = back(i, nodeFault(n, "restart"));
      const j = back(i, (x) => x[2] === n && kindOf(x) === "deliver" && isLeaderMsg(str[x[6]]), r + 1);
      const since = j >= 0 ? `nothing from leader ${ev[j][3]} for ${dur(t - ev[j][0])}`
        : r >= 0 ? `no leader heard from since it restarted ${dur(t - ev[r][0])} ago` : `no leader heard from since the start (${dur(t - ev[0][0])})`;
      return `node ${n} timed out: ${since}; ${role === "precandidate" ? "it asks for pre-votes" : "it stands for election in term " + term}`;
    }
    function explainWin(i) {
      const [, , n, , term] = ev[i], c = back(i, (x) => x[2] === n && kindOf(x) === "role");
      const votes = new Set();
      for (let j = c + 1; j < i; j++) {
        const x = ev[j];
        if (x[2] === n && x[4] === term && kindOf(x) === "deliver" && str[x[6]] === "vote_resp") votes.add(x[3]);
      }
      const voters = state && state.nodes[n] ? state.nodes[n].voters.split(" ").filter(Boolean).length : 0;
      const of = voters ? ` (${voters} voters)` : "";
      return votes.size ? `node ${n} won the election for term ${term}: vote replies from ${[...votes].join(", ")}${of}`
        : `node ${n} became leader of term ${term} without other votes${of}`;
    }
    function explainFollower(i) {
      const [, , n, , term] = ev[i];
      const p = back(i, (x) => x[2] === n && (kindOf(x) === "role" || (kindOf(x) === "fault" && /^(kill|restart)$/.test(str[x[7]]))));
      if (p < 0) return `node ${n} starts as a follower in term ${term}`;
      const prev = ev[p], was = str[prev[7]]; // the role, or the fault: kill or restart
      if (was === "restart" || was === "kill") return `node ${n} restarted and is a follower in term ${term}`;
      if (was === "follower") return `node ${n} is a follower in term ${term}`;
      const d = back(i, (x) => x[2] === n && kindOf(x) === "deliver" && x[4] >= term && x[4] > 0, p + 1);
      if (d < 0) return `node ${n} stepped down from ${was} to follower in term ${term}`;
      const x = ev[d], msg = str[x[6]];
      if (x[4] > prev[4]) return `stepped down: saw term ${x[4]} from node ${x[3]} (${msg})`;
      return isLeaderMsg(msg) ? `stepped down: node ${x[3]} is the leader of term ${term} (${msg} received)`
        : `stepped down: saw term ${x[4]} from node ${x[3]} (${msg})`;
    }
    function explainTerm(i) {
      const [, , n, , term] = ev[i];
      const lo = back(i, (x) => x[2] === n && kindOf(x) === "term");
      const d = back(i, (x) => x[2] === n && kindOf(x) === "deliver" && x[4] === term, lo + 1);
      if (d >= 0) return `node ${n} moves to term ${term}: ${str[ev[d][6]]} from node ${ev[d][3]} carried it`;
      return `node ${n} moves to term ${term}` + (lo >= 0 ? " to stand for election" : "");
    }
    // explainFault: cluster-wide faults (node 0) name their nodes in the
    // detail; a node's own fault follows each as it takes effect.
    function explainFault(e) {
      const [, , n, p, , idx, msgI, detI] = e, det = str[detI], w = det.split(" ");
      if (!n) {
        if (w[0] === "partition") return "the network splits into groups " + det.slice(10) + ": messages between groups are lost";
        if (det === "heal") return "the partition heals: every link works again";
        if (w[0] === "kill" || w[0] === "restart") return `the scenario ${w[0]}s node${w.length > 2 ? "s" : ""} ${w.slice(1).join(", ")}`;
        if (w[0] === "loss") return `the network now loses ${(+w[1] * 100).toFixed(1)}% of transmissions` + (w[2] === "dup" ? ` and duplicates ${(+w[3] * 100).toFixed(1)}%` : "");
        if (w[0] === "visibility") return `tabs ${w.slice(2).join(", ")} become ${w[1]}`;
        if (w[0] === "signaling") return `the signaling server goes ${w[1]}` + (w[1] === "down" ? ": no new connections can be made" : "");
        return "cluster-wide fault: " + det;
      }
      if (det === "kill") return `node ${n}'s tab closes: it stops, its timers and messages to it are lost`;
      if (det === "restart") return `node ${n} restarts from its stored state`;
      if (w[0] === "visibility") return `node ${n}'s tab becomes ${w[1]}` + ({ hidden: ": the browser throttles its timers", frozen: ": it runs nothing until thawed" }[w[1]] || "");
      if (w[0] === "conn") return `node ${n}'s connection to node ${w[1]}: ${w.slice(2).join(" ")}`;
      if (det === "fragmented") return `${str[msgI]} from node ${n} to node ${p} is split into ${idx} fragments`;
      if (det.startsWith("storage quota")) return `node ${n} ran out of storage (${kib(idx)} used) and stops`;
      return `fault on node ${n}: ${det}`;
    }
    // heldText says why deliver i came late, from its detail and its tx
    // and rx: how long its sender held it, how long its receiver's end
    // held it behind an earlier message ("": it was not late).
    function heldText(i) {
      const e = ev[i], r = instants.get(i), o = origin[i], why = str[e[7]];
      if (!r) return why ? ` (${why})` : "";
      const parts = [];
      if (r[2]) parts.push(`held at node ${e[3]} until ${at(r[2])}` + (o >= 0 ? `, ${dur(r[2] - ev[o][0])} after the send` : ""));
      if (r[3]) parts.push(`reached node ${e[2]} at ${at(r[3])} and waited ${dur(e[0] - r[3])} for an earlier message`);
      return `; late: ${why || "held"}: ${parts.join("; ")}`;
    }
    // lostText says when a drop's message was lost, if later than the
    // drop (traced at the send, when its fate was decided).
    function lostText(i) {
      const e = ev[i], lost = lostAt(i);
      if (lost <= e[0]) return "";
      return `; it is lost at ${at(lost)}, ${dur(lost - e[0])} after the send` + (/^abandoned/.test(str[e[7]]) ? " (the sender gives up retransmitting)" : " (when it would have arrived)");
    }
    // describe is the generic one-line description of an event.
    function describe(i, k) {
      const e = ev[i], [t, , n, p, term, idx, msgI, detI] = e, msg = str[msgI], det = str[detI], o = origin[i];
      const what = `${msg}${term ? " term " + term : ""}${idx ? " index " + idx : ""}`;
      switch (k) {
        case "send": return `node ${n} sends ${what} to node ${p}`;
        case "deliver": return `node ${n} receives ${what} from node ${p}` + (o >= 0 ? `, sent ${dur(t - ev[o][0])} earlier` : "") + heldText(i);
        case "drop": return `the network drops ${what} from node ${n} to node ${p}` + (det ? ": " + det : "") + lostText(i);
        case "timer_set": return `node ${n} sets its ${msg} timer: it fires in ${dur(idx)}, at ${at(t + idx)}`;
        case "timer_fire": return `node ${n}'s ${msg} timer fires`;
        case "append": return `node ${n} appends ${parseInt(det, 10) || 1} entr${det === "1" ? "y" : "ies"} up to index ${idx} in term ${term}`;
        case "commit": return `node ${n} learns that entries up to index ${idx} are committed`;
        case "apply": return `node ${n} applies entry ${idx} (term ${term}) to its state machine`;
        case "config": return `node ${n}'s configuration: voters ${det}`;
        case "client": return `client ${p || "?"} on node ${n}: ${msg} #${idx} ${det}`;
        case "snapshot": return `node ${n} ${det === "installed" ? "installs a snapshot from the leader" : "compacts its log into a snapshot"} up to index ${idx}`;
        case "storage": return `node ${n}'s storage reaches ${kib(idx)}`;
        case "measure": return `measure ${msg}: ${dur(idx)}`;
        case "violation": return `safety violation at node ${n}: ${det}`;
      }
      return eventText(e);
    }

    // ---- drawing --------------------------------------------------------------
    function xy(id) {
      const a = (2 * Math.PI * (id - 1)) / N - Math.PI / 2, r = 270;
      return [r * Math.cos(a), r * Math.sin(a)];
    }
    // buildView makes the parts of the page that stay: one group per node
    // on the ring and one row per node in the log panel.
    function buildView() {
      const R = N > 60 ? 9 : N > 30 ? 13 : 22, layers = [svg("g", {}), svg("g", {}), svg("g", {})], rows = document.createDocumentFragment();
      for (let i = 1; i <= N; i++) {
        const [x, y] = xy(i), v = { x, y, R, arc: svg("path", { fill: "none", stroke: "#e76f51", "stroke-width": 2, d: "M 0 0", visibility: "hidden" }),
          circle: svg("circle", { cx: x, cy: y, r: R }), sub: N <= 60 ? svg("text", { x, y: y + 10 }) : null, title: svg("title", {}) };
        v.g = svg("g", { class: "node", "data-id": i }, v.arc, v.circle, svg("text", { x, y: y - 2 }, String(i)), v.sub, v.title);
        layers[2].append(v.g);
        view.nodes[i] = v;
        const row = { last: h("span", {}), cells: [] };
        row.el = h("div", { class: "logrow" }, h("span", { class: "id" }, String(i)), " ", row.last);
        view.rows[i] = row;
        rows.append(row.el);
      }
      [view.cuts, view.msgs] = layers;
      if (label) layers.push(svg("text", { class: "ring-label", x: -325, y: -312 }, label));
      el("ring").replaceChildren(...layers);
      el("log-rows").replaceChildren(rows);
    }
    // draw shows the state at pos; dirty is the one node whose log may have
    // changed (-1: none, undefined: every node's).
    function draw(dirty) {
      const t = vtime;
      drawCuts();
      drawMessages(t);
      for (let i = 1; i <= N; i++) drawNode(i, t);
      drawHeader();
      drawDetail(t);
      if (dirty === undefined) for (let i = 1; i <= N; i++) drawLog(i);
      else if (dirty >= 1 && dirty <= N) drawLog(dirty);
      st.follow(t);
    }
    function drawHeader() {
      const s = state;
      let lead = 0, lt = -1;
      for (let i = 1; i <= N; i++) { const nd = s.nodes[i]; if (nd.alive && nd.role === "leader" && nd.term > lt) { lead = i; lt = nd.term; } }
      let top = 0;
      for (const nd of s.nodes) top = Math.max(top, nd.term);
      text(el("leader"), lead ? String(lead) : "none");
      text(el("term"), String(lead ? lt : top));
      text(el("event-index"), String(pos));
      text(el("event-text"), pos > 0 ? eventText(ev[pos - 1]) : "(start)");
      text(el("explain"), explain(pos));
    }
    function drawCuts() {
      const lines = [];
      for (const key in state.cuts) {
        const [a, b] = key.split(">").map(Number);
        if (a >= 1 && b >= 1 && a <= N && b <= N) { const [x1, y1] = xy(a), [x2, y2] = xy(b); lines.push(svg("line", { class: "link cut", x1, y1, x2, y2 })); }
      }
      view.cuts.replaceChildren(...lines);
    }
    // drawMessages draws the messages in flight at clock t where they are
    // (a lost one as a cross), and a cross for each recently lost.
    function drawMessages(t) {
      const out = document.createDocumentFragment();
      for (const m of inFlight(pos, t)) {
        if (m.from < 1 || m.to < 1 || m.from > N || m.to > N) continue;
        const [x1, y1] = xy(m.from), [x2, y2] = xy(m.to), f = Math.max(0, Math.min(1, m.frac));
        const x = x1 + (x2 - x1) * f, y = y1 + (y2 - y1) * f;
        const title = svg("title", {}, `${m.msg} ${m.from}→${m.to} term ${m.term} index ${m.idx}${m.dropped ? " (will be lost)" : m.held ? " (held: " + m.held + ")" : ""}`);
        if (m.dropped) out.append(svg("g", { class: "drop" }, svg("line", { x1: x - 4, y1: y - 4, x2: x + 4, y2: y + 4 }), svg("line", { x1: x - 4, y1: y + 4, x2: x + 4, y2: y - 4 }), title));
        else out.append(svg("circle", { class: "msg", cx: x, cy: y, r: m.msg.startsWith("app") ? 3 : 4, fill: st.color(m.msg) }, title));
      }
      drawLost(out, t);
      view.msgs.replaceChildren(out);
    }
    // drawLost marks each message lost in the last second of playback (at
    // least 200 ms of virtual time; at most 200 marks) with a cross 60% of
    // the way to its receiver, labelled with the reason. A drop traced at
    // the send with a later lost instant is marked once lost (until then
    // it is in flight); the scan goes back by the drops' time, so one lost
    // long after its send may go unmarked here (the diagram has it).
    function drawLost(out, t) {
      const since = t - Math.max(2e8, 1e9 * SPEEDS[speed]);
      for (let j = pos - 1, n = 0, seen = 0; j >= 0 && ev[j][0] > since && n < 200 && seen < 20000; j--, seen++) {
        const e = ev[j];
        if (e[1] !== K.drop || e[2] < 1 || e[3] < 1 || e[2] > N || e[3] > N || lostAt(j) > t) continue;
        const [x1, y1] = xy(e[2]), [x2, y2] = xy(e[3]), x = x1 + (x2 - x1) * 0.6, y = y1 + (y2 - y1) * 0.6 + (e[2] === e[3] ? -30 : 0);
        out.append(svg("g", { class: "drop lost" }, svg("line", { x1: x - 5, y1: y - 5, x2: x + 5, y2: y + 5 }), svg("line", { x1: x - 5, y1: y + 5, x2: x + 5, y2: y - 5 }),
          svg("title", {}, `lost ${at(lostAt(j))}: ${str[e[6]]} ${e[2]}→${e[3]}${str[e[7]] ? ": " + str[e[7]] : ""}`)));
        n++;
      }
    }
    // arcPath is the election timer's progress round node nd, or null.
    function arcPath(nd, v, t) {
      const tm = nd.timers.election;
      if (!tm || !nd.alive || tm.due <= tm.at || tm.due < t || nd.role === "leader") return null;
      const f = Math.max(0, Math.min(1, (t - tm.at) / (tm.due - tm.at))), a = 2 * Math.PI * f, r = v.R + 5;
      const ex = v.x + r * Math.sin(a), ey = v.y - r * Math.cos(a);
      return `M ${v.x} ${v.y - r} A ${r} ${r} 0 ${f > 0.5 ? 1 : 0} 1 ${ex} ${ey}`;
    }
    // drawNode draws node i at clock t: filled by its browser state (see
    // the legend) or else its role; a hidden tab is dashed.
    function drawNode(i, t) {
      const nd = state.nodes[i], v = view.nodes[i], tab = tabState(nd), d = arcPath(nd, v, t);
      const fill = tab && tab !== "hidden" ? TAB_COLORS[tab] : Object.hasOwn(ROLE_COLOR, nd.role) ? ROLE_COLOR[nd.role] : "#eee";
      set(v.g, { class: "node" + (i === selected ? " selected" : "") + (tab ? " " + tab : "") });
      set(v.arc, d ? { d, visibility: null } : { visibility: "hidden" });
      set(v.circle, { fill });
      if (v.sub) text(v.sub, tab === "unjoined" ? "not joined" : tab && tab !== "hidden" ? tab : `t${nd.term} c${nd.commit}`);
      text(v.title, `node ${i}: ${status(nd)}, ${nd.vis}, term ${nd.term}, commit ${nd.commit}, last ${nd.last}`);
    }
    function drawDetail(t) {
      const nd = state.nodes[selected];
      if (!nd) { el("detail").replaceChildren(h("h3", {}, `Node ${selected}${tag}`), h("p", {}, "not in this trace")); return; }
      const kids = [h("h3", {}, `Node ${selected}${tag}`), h("p", {}, `${status(nd)} · tab ${nd.vis}`, h("br"),
        `term ${nd.term} · commit ${nd.commit} · applied ${nd.applied} · last index ${nd.last}` + (nd.first > 1 ? ` · log from ${nd.first} (snapshot)` : ""),
        h("br"), `configuration: ${nd.voters || "-"}`, h("br"),
        `storage: ${nd.storage ? kib(nd.storage) + " (traced at each tenth of the quota)" : "under the first trace step"}`)];
      // A timer's stop is not traced: one past its time was stopped.
      for (const k in nd.timers) if (nd.timers[k].due >= t) kids.push(h("p", {}, `${k} timer: fires in ${dur(nd.timers[k].due - t)}`));
      if (nd.role === "leader") {
        const table = h("table", { class: "peers" }, h("tr", {}, h("th", {}, "peer"), h("th", {}, "nextIndex"), h("th", {}, "matchIndex")));
        for (let i = 1; i <= N; i++) if (i !== selected) table.append(h("tr", {}, h("td", {}, String(i)), h("td", {}, String(nd.sent[i] ?? "-")), h("td", {}, String(nd.acked[i] ?? "-"))));
        kids.push(table, h("p", { class: "note" }, "nextIndex: after the last append sent; matchIndex: the highest index acknowledged."));
      }
      el("detail").replaceChildren(...kids);
    }
    // drawLog updates node i's log row in place: its last W entries, cells
    // made as first needed and hidden when the log is shorter.
    function drawLog(i) {
      const nd = state.nodes[i], row = view.rows[i], from = Math.max(0, nd.log.length - W);
      for (let c = 0; c < W; c++) {
        const j = from + c;
        if (j >= nd.log.length) { if (c < row.cells.length) set(row.cells[c], { hidden: "" }); continue; }
        if (c === row.cells.length) { row.cells.push(h("i", {})); row.last.before(row.cells[c]); }
        const cell = row.cells[c], index = nd.off + j, term = nd.log[j];
        set(cell, { hidden: null, class: index > nd.commit ? "uncommitted" : null,
          title: `index ${index} term ${term}${index <= nd.applied ? " applied" : index <= nd.commit ? " committed" : ""}` });
        const bg = TERM_COLORS[term % TERM_COLORS.length] || "";
        // CSSOM, which the policy allows; compared with the last value set,
        // as the style reads back normalized (rgb(...)) and never equal.
        if (cell.bg !== bg) { cell.bg = bg; cell.style.background = bg; }
      }
      text(row.last, String(nd.last));
    }
    // goTo shows the state after i events: one step applies one event and
    // redraws one log row; any other move rebuilds the state from the
    // nearest snapshot and redraws every row (as does full).
    // clock, if given, is the time to draw at: from the event's time to
    // (not past) the next one's.
    function goTo(i, full, clock) {
      i = Math.max(0, Math.min(ev.length, Math.trunc(i) || 0));
      let dirty = -1;
      if (i === pos + 1 && !full) { apply(state, ev[pos]); dirty = ev[pos][2]; }
      else if (i !== pos || full) { state = stateAt(i); dirty = undefined; }
      pos = i;
      const from = pos > 0 ? ev[pos - 1][0] : 0, to = pos < ev.length ? ev[pos][0] : T.end;
      vtime = clock === undefined ? from : Math.max(from, Math.min(to, clock));
      draw(dirty);
    }
    // seekTo goes to clock t: after every event at or before t.
    function seekTo(t) {
      let lo = 0, hi = ev.length;
      while (lo < hi) { const m = (lo + hi) >> 1; if (ev[m][0] <= t) lo = m + 1; else hi = m; }
      goTo(lo, false, t);
    }

    // prepare pairs messages and takes the snapshots seeking starts from:
    // about 250 of them, however long the trace, so memory stays bounded.
    function prepare() {
      SNAP = Math.max(2000, Math.ceil(ev.length / 250));
      matchMessages();
      const s = fresh();
      snaps.push(clone(s));
      for (let i = 1; i <= N; i++) segments[i] = [[0, tabState(s.nodes[i])]];
      for (let i = 0; i < ev.length; i++) {
        apply(s, ev[i]);
        track(s, ev[i]);
        if ((i + 1) % SNAP === 0) snaps.push(clone(s));
      }
      state = fresh();
    }
    // track records when e changes its node's browser state, for the
    // diagram's lanes.
    function track(s, e) {
      const n = e[2], k = e[1];
      if (n < 1 || n > N || (k !== K.fault && k !== K.role && k !== K.term && k !== K.append)) return;
      const seg = segments[n], tab = tabState(s.nodes[n]);
      if (seg[seg.length - 1][1] !== tab) seg.push([e[0], tab]);
    }
    // The first trace's diagram has the controls; the second's follows
    // them (its window and filters mirror the first's: see start).
    const controls = p ? null : { zoomIn: el("st-in"), zoomOut: el("st-out"), all: el("st-all"), left: el("st-left"), right: el("st-right"),
      nodes: el("st-nodes"), hb: el("st-hb"), expand: el("st-expand"), collapse: el("st-collapse") };
    prepare();
    buildView();
    st = makeSpacetime({ T, ev, str, N, match, origin, sends, instants, segments, roleColor: ROLE_COLOR, canvas: el("st-canvas"), note: el("st-note"),
      kinds: el("st-kinds"), controls, follower: !controls, first: hooks.first, end: hooks.end, seek: hooks.seek, eventText, at, h, set,
      onView: hooks.onView, onChange: hooks.onChange });
    return { T, ev, str, N, st, kindOf, eventText, phaseText, goTo, seekTo, draw, pos: () => pos, clock: () => vtime, explain: () => explain(pos),
      first: ev[0][0], end: T.end };
  }
  // ---- navigation -------------------------------------------------------------
  // go shows trace A after i events (as goTo) and B at the same clock.
  function go(i, full, c) {
    A.goTo(i, full, c);
    clock = A.clock();
    if (B) B.seekTo(clock);
    drawPage();
  }
  // goB shows trace B after i events, at its event's time, and A at the
  // same clock (a click on B's diagram).
  function goB(i) {
    i = Math.max(0, Math.min(B.ev.length, Math.trunc(i) || 0));
    const t = i > 0 ? B.ev[i - 1][0] : 0;
    B.goTo(i, false, t);
    clock = t;
    A.seekTo(t);
    drawPage();
  }
  // seekTime goes to clock t: after every event at or before t (with one
  // trace, drawn between t's events; with two, t within both traces).
  function seekTime(t) {
    if (!B) { A.seekTo(t); clock = A.clock(); }
    else { clock = Math.max(0, Math.min(end, t)); A.seekTo(clock); B.seekTo(clock); }
    drawPage();
  }
  // drawPage draws what the traces share: the clock, the slider (A's
  // events), the timeline, A's client operations and the address.
  function drawPage() {
    text($("time"), (clock / 1e9).toFixed(6));
    $("slider").value = String(A.pos());
    saveHash();
    tl.update(clock, A.st.window());
    drawOps();
  }
  // ---- client operations ------------------------------------------------------
  // The panel lists trace A's client operations (T.operations, from Go),
  // each a row: client id (as the porcupine history page names it), tab,
  // op and key, its interval call→return on a bar spanning every
  // operation, and how long it took. A click goes to its call event.
  // Rows are built once; a move only changes their classes: open (called,
  // not returned at the position), done, and current (its call or return
  // is the current event).
  const MAXOPS = 2000;
  let opRows = [];
  function buildOps() {
    const ops = A.T.operations || [], ev = A.ev;
    if (!ops.length) return;
    const shown = ops.slice(0, MAXOPS), t0 = ev[shown[0].call][0];
    let t1 = t0 + 1;
    for (const o of shown) t1 = Math.max(t1, o.end >= 0 ? ev[o.end][0] : A.end);
    const pct = (t) => (100 * (t - t0)) / (t1 - t0) + "%";
    opRows = shown.map((o, j) => {
      const c = ev[o.call][0], r = o.end >= 0 ? ev[o.end][0] : null;
      const how = o.result === "return" ? dur(r - c) : o.result === "gave up" ? "gave up" : "no return";
      const ends = o.result === "return" ? `returned at ${at(r)} after ${dur(r - c)}` : o.result === "gave up" ? `gave up at ${at(r)} after ${dur(r - c)}` : "no return in the trace";
      const bar = h("i", {});
      // CSSOM, which the policy allows (an attribute would not be).
      bar.style.left = pct(c);
      bar.style.width = `calc(${pct(r ?? t1)} - ${pct(c)})`;
      const row = h("button", { type: "button", class: "op", "data-op": j,
        title: `client ${o.client} on node ${o.node}: ${o.op} ${o.key} (#${o.seq}), called at ${at(c)}, ${ends}; click: go to its call` },
      h("span", {}, "client " + o.client), h("span", {}, "n" + o.node), h("span", {}, `${o.op} ${o.key}`), h("span", { class: "op-bar" }, bar), h("span", {}, how));
      row.kind = o.result === "return" ? "" : o.result === "gave up" ? " gaveup" : " pending";
      return row;
    });
    text($("op-note"), `${ops.length} operation${ops.length > 1 ? "s" : ""}, call → return (client ids as on the history page); click one to go to its call.` +
      (ops.length > MAXOPS ? ` The first ${MAXOPS} are listed.` : ""));
    $("op-rows").replaceChildren(...opRows);
    $("op-rows").onclick = (e) => { const b = e.target.closest("[data-op]"); if (b) go(ops[parseInt(b.dataset.op, 10)].call + 1); };
    $("ops").hidden = false;
  }
  function drawOps() {
    if (!opRows.length) return;
    const ops = A.T.operations, pos = A.pos(), cur = pos - 1;
    for (let j = 0; j < opRows.length; j++) {
      const o = ops[j], state = pos <= o.call ? "" : o.end >= 0 && pos > o.end ? " done" : " open";
      set(opRows[j], { class: "op" + opRows[j].kind + state + (cur === o.call || cur === o.end ? " current" : "") });
    }
  }
  // saveHash records the position in the address, at most every 200 ms:
  // browsers throttle history.replaceState when called on every step.
  let hashAt = -1e9, hashTimer = 0;
  function saveHash() {
    const now = performance.now(), write = () => { hashAt = performance.now(); history.replaceState(null, "", "#e=" + A.pos() + "&n=" + selected); };
    if (now - hashAt > 200) write();
    else if (!hashTimer) hashTimer = setTimeout(() => { hashTimer = 0; write(); }, 200);
  }
  function find(test, dir) {
    const ev = A.ev, pos = A.pos();
    for (let i = pos + (dir > 0 ? 0 : -2); i >= 0 && i < ev.length; i += dir) if (test(ev[i])) return i + 1;
    return pos;
  }
  const isLeaderChange = (e) => A.kindOf(e) === "role" && A.str[e[7]] === "leader";
  const isFault = (e) => A.kindOf(e) === "fault" && !A.str[e[7]].startsWith("conn ");
  const isKind = (e) => A.kindOf(e) === $("kind").value;
  function setSpeed(i) { speed = Math.max(0, Math.min(SPEEDS.length - 1, i)); $("speed").value = String(speed); }
  function togglePlay() {
    playing = !playing;
    $("play").textContent = playing ? "pause" : "play";
    lastFrame = performance.now();
    if (playing) requestAnimationFrame(frame);
  }
  // frame advances the playback clock by the time since the last frame
  // times the speed, and draws at it: messages and timer arcs move
  // between events. Playback stops at the end (of the longer trace).
  function frame(now) {
    if (!playing) return;
    const t = clock + Math.min(now - lastFrame, MAX_FRAME_MS) * 1e6 * SPEEDS[speed];
    lastFrame = now;
    if (B) {
      seekTime(t);
      if (clock >= end) { togglePlay(); return; }
    } else {
      seekTime(A.pos() >= A.ev.length ? A.end : t);
      if (A.pos() >= A.ev.length) { togglePlay(); return; }
    }
    requestAnimationFrame(frame);
  }
  // select shows node i in the detail panels. With one trace it goes
  // back to the current event's time, as it always has; with two, both
  // are redrawn at the clock.
  function select(i) {
    selected = i;
    if (!B) { go(A.pos()); return; }
    A.draw(-1);
    B.draw(-1);
    drawPage();
  }
  // jumpDiff goes to the first difference: to the earlier of the two
  // differing events (the other trace at the same clock).
  function jumpDiff() {
    if (!diff || diff.firstDiffIndex < 0) return;
    const i = diff.firstDiffIndex, ta = diff.firstDiffTimeA, tb = diff.firstDiffTimeB;
    if (ta !== null && (tb === null || ta <= tb)) go(i + 1);
    else goB(i + 1);
  }
  // diffText says where the traces first differ.
  function diffText() {
    const i = diff.firstDiffIndex, side = (name, V, t) => (t === null ? `${name} has ended (${V.ev.length} events)` : `${name} ${V.eventText(V.ev[i])} at ${at(t)}`);
    const events = i < 0 ? "the traces hold the same events (times aside)"
      : `first difference at event ${i + 1}: ${side("A", A, diff.firstDiffTimeA)}; ${side("B", B, diff.firstDiffTimeB)}`;
    const roles = diff.firstStateDiffTime === null ? "roles and terms never differ on the shared clock"
      : `roles and terms first differ at ${at(diff.firstStateDiffTime)} (node ${diff.firstStateDiffNode})`;
    return events + "; " + roles;
  }
  // diffMarks are the timeline's marks of the difference: where each
  // trace's differing event is, and where roles and terms first differ.
  function diffMarks() {
    const marks = [], i = diff.firstDiffIndex, ta = diff.firstDiffTimeA, tb = diff.firstDiffTimeB;
    if (i >= 0 && ta !== null) marks.push({ t: ta, cls: "tl-diff", title: `first difference, event ${i + 1} of A at ${at(ta)}: ${A.eventText(A.ev[i])}`, act: () => go(i + 1) });
    if (i >= 0 && tb !== null && tb !== ta) marks.push({ t: tb, cls: "tl-diff", title: `first difference, event ${i + 1} of B at ${at(tb)}: ${B.eventText(B.ev[i])}`, act: () => goB(i + 1) });
    const s = diff.firstStateDiffTime;
    if (s !== null) marks.push({ t: s, cls: "tl-statediff", title: `roles and terms first differ at ${at(s)} (node ${diff.firstStateDiffNode})`, act: () => seekTime(s) });
    return marks;
  }
  function onKey(e) {
    if (e.target.tagName === "SELECT" || (e.target.tagName === "INPUT" && e.target.type === "text")) return; // typing
    const step = e.shiftKey ? 100 : 1, pos = A.pos();
    switch (e.key) {
      case " ": togglePlay(); break;
      case "ArrowRight": go(pos + step); break;
      case "ArrowLeft": go(pos - step); break;
      case "j": go(find(isLeaderChange, 1)); break;
      case "k": go(find(isLeaderChange, -1)); break;
      case "f": go(find(isFault, 1)); break;
      case "F": go(find(isFault, -1)); break;
      case "n": go(find(isKind, 1)); break;
      case "p": go(find(isKind, -1)); break;
      case "]": setSpeed(speed + 1); break;
      case "+": case "=": A.st.zoom(0.5); break;
      case "-": A.st.zoom(2); break;
      case "[": setSpeed(speed - 1); break;
      case "Home": go(0); break;
      case "End": go(A.ev.length); break;
      case "d": if (!B) return; jumpDiff(); break;
      case "?": $("keys").hidden = !$("keys").hidden; break;
      case "Escape": $("keys").hidden = true; break;
      default:
        if (e.key >= "1" && e.key <= "9" && +e.key <= Math.max(A.N, B ? B.N : 0)) select(+e.key);
        else return;
    }
    e.preventDefault();
  }
  function bindControls() {
    $("first").onclick = () => go(0);
    $("last").onclick = () => go(A.ev.length);
    $("back").onclick = () => go(A.pos() - 1);
    $("fwd").onclick = () => go(A.pos() + 1);
    $("play").onclick = togglePlay;
    $("speed").onchange = () => setSpeed(parseInt($("speed").value, 10));
    $("prev-kind").onclick = () => go(find(isKind, -1));
    $("next-kind").onclick = () => go(find(isKind, 1));
    $("slider").oninput = () => go(parseInt($("slider").value, 10));
    const pick = (e) => { const g = e.target.closest(".node"); if (g) select(parseInt(g.dataset.id, 10)); };
    $("ring").onclick = pick;
    if (B) { $("b-ring").onclick = pick; $("diff-go").onclick = jumpDiff; }
    document.onkeydown = onKey;
    window.addEventListener("resize", () => {
      tl.build();
      for (const V of B ? [A, B] : [A]) { V.st.resize(); V.draw(-1); }
      drawPage();
    });
  }

  // start shows data: a trace, or { traces: [A, B], compare } (two
  // traces and where they first differ, from the server).
  function start(data) {
    const two = Array.isArray(data.traces), TA = two ? data.traces[0] : data;
    $("name").textContent = (two ? "A: " : "") + TA.name;
    $("event-count").textContent = String(TA.events.length);
    $("slider").max = String(TA.events.length);
    SPEEDS.forEach((s, i) => $("speed").append(h("option", { value: i }, s + "x")));
    setSpeed(speed);
    TA.kinds.forEach((k) => $("kind").append(h("option", { value: k }, k)));
    $("kind").value = "role";
    // The link is the server's own page; anything else (a javascript: URL, say) is not linked.
    if (typeof TA.history === "string" && /^[\w-]+\.html$/.test(TA.history)) { const a = $("history-link"); a.href = TA.history; a.hidden = false; }
    // Both traces' span: the diagrams' "all" and the timeline show it.
    const TB = two ? data.traces[1] : null, first = two ? Math.min(TA.events[0][0], TB.events[0][0]) : undefined;
    end = two ? Math.max(TA.end, TB.end) : TA.end;
    A = makeViewer(TA, "", two ? " (A)" : "", two ? "A: " + TA.name : "", { seek: go, first, end: two ? end : undefined,
      onView: () => { if (tl) tl.update(clock, A.st.window()); }, onChange: () => { if (B) B.st.mirror(A.st.settings()); } });
    if (two) {
      set(document.body, { class: "pair" });
      diff = data.compare;
      B = makeViewer(TB, "b-", " (B)", "B: " + TB.name, { seek: goB, first, end,
        onView: () => { const [t0, t1] = B.st.window(); A.st.view(t0, t1); } });
      B.goTo(0, true);
      B.st.mirror(A.st.settings());
      text($("b-name"), TB.name);
      text($("b-event-count"), String(TB.events.length));
      text($("st-cap"), "A: " + TA.name);
      text($("b-st-cap-name"), "B: " + TB.name);
      text($("diff-text"), diffText());
      set($("diff-go"), { disabled: diff.firstDiffIndex < 0 ? "" : null });
    }
    tl = makeTimeline({ T: TA, ev: TA.events, str: TA.strings, kindOf: A.kindOf, root: $("timeline"), svg, set, seek: go, seekTime, eventText: A.eventText,
      phaseText: A.phaseText, at, dur, first: first ?? A.first, end, extra: B ? diffMarks() : [] });
    buildOps();
    bindControls();
    const q = new URLSearchParams(location.hash.slice(1));
    if (q.has("n")) selected = Math.max(1, Math.min(A.N, parseInt(q.get("n"), 10) || 1));
    go(q.has("e") ? parseInt(q.get("e"), 10) || 0 : 0, true);
    for (let i = 1; i <= A.N; i++) api.nodes.push(i);
    if (B) {
      const nodes = [];
      for (let i = 1; i <= B.N; i++) nodes.push(i);
      api.other = { name: B.T.name, nodes, index: () => B.pos(), clock: () => B.clock(), explain: () => B.explain(), diagram: () => B.st.counts() };
    }
    api.readyMs = performance.now();
    api.ready = window.raftsimReady = true;
  }

  window.raftsimGo = api.seek; // the older name
  try {
    const data = $("trace");
    if (data) {
      const parsed = JSON.parse(data.textContent);
      data.remove(); // its text (tens of MB for a long trace) would stay in the DOM
      start(parsed);
    }
    else fetch("trace.json").then((r) => { if (!r.ok) throw new Error("trace.json: HTTP " + r.status); return r.json(); })
      .then(start).catch((e) => fail(e.message));
  } catch (e) {
    fail(e.message);
  }
})();
