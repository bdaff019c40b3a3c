// raftsim trace viewer: replays a trace event by event. State at any
// event is rebuilt from the nearest snapshot (one every SNAP events), so
// seeking stays fast on long traces.
"use strict";
(function () {
  const SNAP = 2000;
  const ROLE_COLOR = { follower: "#cfe3ff", precandidate: "#fff2b3", candidate: "#ffd166", leader: "#7bd389" };
  const TERM_COLORS = ["#8ecae6", "#ffb703", "#90be6d", "#f28482", "#b5838d", "#84a59d", "#cdb4db", "#e9c46a"];
  const SPEEDS = [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100];
  const $ = (id) => document.getElementById(id);
  let T, K = {}, ev, str, N, snaps = [], sends = [], match, pos = 0, state, selected = 1;
  let playing = false, speed = 4, lastFrame = 0, vtime = 0;

  function fail(msg) {
    const e = $("error");
    e.hidden = false;
    e.textContent = "Cannot show this trace: " + msg;
  }

  // ---- state ------------------------------------------------------------
  function fresh() {
    const nodes = [];
    for (let i = 0; i <= N; i++) {
      nodes.push({ storage: 0, role: "follower", term: 0, commit: 0, applied: 0, last: 0, first: 1, voters: "", vis: "foreground",
        alive: true, log: [], timers: Object.create(null), acked: {}, sent: {} });
    }
    return { nodes, cuts: {}, partition: "" };
  }
  function clone(s) {
    return { nodes: s.nodes.map((n) => Object.assign({}, n, { log: n.log.slice(), timers: Object.assign(Object.create(null), n.timers),
      acked: Object.assign({}, n.acked), sent: Object.assign({}, n.sent) })), cuts: Object.assign({}, s.cuts), partition: s.partition };
  }
  function apply(s, e) {
    const [t, kind, n, p, term, idx, msgI, detI] = e;
    const k = T.kinds[kind - 1], nd = s.nodes[n], msg = str[msgI], det = str[detI];
    switch (k) {
      case "role": nd.role = det; break;
      case "term": nd.term = term; break;
      case "append": {
        const cnt = parseInt(det, 10) || 1;
        nd.log.length = Math.max(0, idx - nd.first + 1 - cnt);
        for (let i = 0; i < cnt; i++) nd.log.push(term);
        nd.last = idx;
        break;
      }
      case "commit": nd.commit = idx; break;
      case "storage": nd.storage = idx; break;
      case "apply": nd.applied = idx; break;
      case "config": nd.voters = det; break;
      case "timer_set": nd.timers[msg] = { at: t, due: t + idx }; break;
      case "timer_fire": delete nd.timers[msg]; break;
      case "snapshot": {
        const drop = idx - nd.first + 1;
        if (det === "installed" || drop > nd.log.length) { nd.log = []; nd.last = Math.max(nd.last, idx); }
        else nd.log = nd.log.slice(drop);
        nd.first = idx + 1;
        break;
      }
      case "send":
        if (msg === "app" && nd) nd.sent[p] = idx + 1; // the append's next index
        break;
      case "deliver":
        if (msg === "app_resp" && nd) nd.acked[p] = Math.max(nd.acked[p] || 0, idx);
        break;
      case "fault":
        if (n === 0) {
          if (det.startsWith("partition")) { s.partition = det; s.cuts = cutsOf(det); }
          else if (det === "heal") { s.partition = ""; s.cuts = {}; }
          break;
        }
        if (det === "kill") { nd.alive = false; nd.timers = Object.create(null); nd.role = "follower"; }
        else if (det === "restart") { nd.alive = true; if (nd.vis === "discarded") nd.vis = "foreground"; }
        else if (det.startsWith("visibility ")) nd.vis = det.split(" ")[1];
        else if (det === "discard") nd.vis = "discarded";
        else if (det.startsWith("cut to ")) s.cuts[n + ">" + det.slice(7)] = true;
        else if (det === "blackhole") for (let i = 1; i <= N; i++) { s.cuts[n + ">" + i] = true; s.cuts[i + ">" + n] = true; }
        break;
    }
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
  function matchMessages() {
    const pending = new Map();
    match = new Int32Array(ev.length).fill(-1);
    for (let i = 0; i < ev.length; i++) {
      const [t, kind, n, p, term, idx, msgI] = ev[i];
      const k = T.kinds[kind - 1];
      if (k === "send") {
        const key = n + ">" + p + ":" + msgI + ":" + term + ":" + idx;
        if (!pending.has(key)) pending.set(key, []);
        pending.get(key).push(i);
        sends.push(i);
      } else if (k === "deliver" || k === "drop") {
        const key = (k === "deliver" ? p + ">" + n : n + ">" + p) + ":" + msgI + ":" + term + ":" + idx;
        const q = pending.get(key);
        if (q && q.length) match[q.shift()] = i;
      }
    }
  }
  function inFlight(i) {
    const t = ev[Math.max(0, i - 1)][0], out = [];
    let lo = 0, hi = sends.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (sends[m] < i) lo = m + 1; else hi = m; }
    for (let j = lo - 1, seen = 0; j >= 0 && seen < 4000; j--, seen++) {
      const si = sends[j], end = match[si];
      if (end >= 0 && end < i) continue;
      const e = ev[si], te = end >= 0 ? ev[end][0] : T.end;
      const dropped = end >= 0 && T.kinds[ev[end][1] - 1] === "drop";
      out.push({ from: e[2], to: e[3], msg: str[e[6]], term: e[4], idx: e[5], frac: te > e[0] ? (t - e[0]) / (te - e[0]) : 0, dropped });
    }
    return out;
  }

  // ---- drawing --------------------------------------------------------------
  function xy(id) {
    const a = (2 * Math.PI * (id - 1)) / N - Math.PI / 2, r = 270;
    return [r * Math.cos(a), r * Math.sin(a)];
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

  function draw() {
    const t = pos > 0 ? ev[pos - 1][0] : 0;
    const ring = document.createDocumentFragment();
    drawCuts(ring);
    drawMessages(ring);
    drawNodes(ring, t);
    $("ring").replaceChildren(ring);
    // header
    const s = state;
    let lead = 0, lt = -1;
    for (let i = 1; i <= N; i++) { const nd = s.nodes[i]; if (nd.alive && nd.role === "leader" && nd.term > lt) { lead = i; lt = nd.term; } }
    $("leader").textContent = lead ? String(lead) : "none";
    $("term").textContent = lead ? String(lt) : String(Math.max(...s.nodes.map((n) => n.term)));
    $("time").textContent = (t / 1e9).toFixed(6);
    $("event-index").textContent = String(pos);
    $("slider").value = String(pos);
    if (pos > 0) {
      const e = ev[pos - 1];
      $("event-text").textContent = `${T.kinds[e[1] - 1]} n${e[2]}${e[3] ? "→" + e[3] : ""} ${str[e[6]]} ${e[4] ? "term " + e[4] : ""} ${e[5] ? "idx " + e[5] : ""} ${str[e[7]]}`;
    } else $("event-text").textContent = "(start)";
    drawDetail(t);
    drawLogs();
  }
  function drawCuts(ring) {
    for (const key in state.cuts) {
      const [a, b] = key.split(">").map(Number);
      if (a >= 1 && b >= 1 && a <= N && b <= N) { const [x1, y1] = xy(a), [x2, y2] = xy(b); ring.append(svg("line", { class: "link cut", x1, y1, x2, y2 })); }
    }
  }
  function msgColor(msg) {
    return msg.startsWith("vote") || msg.startsWith("prevote") ? "#f4a261" : msg.endsWith("resp") ? "#fff" : "#457b9d";
  }
  function drawMessages(ring) {
    for (const m of inFlight(pos)) {
      if (m.from < 1 || m.to < 1) continue;
      const [x1, y1] = xy(m.from), [x2, y2] = xy(m.to), f = Math.max(0, Math.min(1, m.frac));
      const x = x1 + (x2 - x1) * f, y = y1 + (y2 - y1) * f;
      const title = svg("title", {}, `${m.msg} ${m.from}→${m.to} term ${m.term} index ${m.idx}${m.dropped ? " (will be dropped)" : ""}`);
      if (m.dropped) ring.append(svg("g", { class: "drop" }, svg("line", { x1: x - 4, y1: y - 4, x2: x + 4, y2: y + 4 }), svg("line", { x1: x - 4, y1: y + 4, x2: x + 4, y2: y - 4 }), title));
      else ring.append(svg("circle", { class: "msg", cx: x, cy: y, r: m.msg.startsWith("app") ? 3 : 4, fill: msgColor(m.msg) }, title));
    }
  }
  // timerArc is the election timer's progress round node nd, or null.
  function timerArc(nd, x, y, R, t) {
    const tm = nd.timers.election;
    if (!tm || !nd.alive || tm.due <= tm.at || tm.due < t || nd.role === "leader") return null;
    const f = Math.max(0, Math.min(1, (t - tm.at) / (tm.due - tm.at))), a = 2 * Math.PI * f, r = R + 5;
    const ex = x + r * Math.sin(a), ey = y - r * Math.cos(a);
    return svg("path", { d: `M ${x} ${y - r} A ${r} ${r} 0 ${f > 0.5 ? 1 : 0} 1 ${ex} ${ey}`, fill: "none", stroke: "#e76f51", "stroke-width": 2 });
  }
  function drawNodes(ring, t) {
    const R = N > 60 ? 9 : N > 30 ? 13 : 22;
    for (let i = 1; i <= N; i++) {
      const nd = state.nodes[i], [x, y] = xy(i);
      const fill = !nd.alive ? "#ccc" : nd.vis === "frozen" ? "#bde0fe" : Object.hasOwn(ROLE_COLOR, nd.role) ? ROLE_COLOR[nd.role] : "#eee";
      ring.append(svg("g", { class: "node" + (i === selected ? " selected" : ""), "data-id": i }, timerArc(nd, x, y, R, t),
        svg("circle", { cx: x, cy: y, r: R, fill, "stroke-dasharray": nd.vis === "hidden" ? "3 2" : null }),
        svg("text", { x, y: y - 2 }, String(i)), N <= 60 ? svg("text", { x, y: y + 10 }, `t${nd.term} c${nd.commit}`) : null,
        svg("title", {}, `node ${i}: ${nd.alive ? nd.role : "closed"}, ${nd.vis}, term ${nd.term}, commit ${nd.commit}, last ${nd.last}`)));
    }
  }
  function drawDetail(t) {
    const nd = state.nodes[selected];
    if (!nd) return;
    const kids = [h("h3", {}, `Node ${selected}`), h("p", {}, `${nd.alive ? nd.role : "closed"} · tab ${nd.vis}`, h("br"),
      `term ${nd.term} · commit ${nd.commit} · applied ${nd.applied} · last index ${nd.last}` + (nd.first > 1 ? ` · log from ${nd.first} (snapshot)` : ""),
      h("br"), `configuration: ${nd.voters || "-"}`, h("br"),
      `storage: ${nd.storage ? (nd.storage / 1024).toFixed(0) + " KiB (traced at each tenth of the quota)" : "under the first trace step"}`)];
    // A timer's stop is not traced: one past its time was stopped.
    for (const k in nd.timers) if (nd.timers[k].due >= t) kids.push(h("p", {}, `${k} timer: fires in ${((nd.timers[k].due - t) / 1e6).toFixed(0)} ms`));
    if (nd.role === "leader") {
      const table = h("table", { class: "peers" }, h("tr", {}, h("th", {}, "peer"), h("th", {}, "nextIndex"), h("th", {}, "matchIndex")));
      for (let i = 1; i <= N; i++) if (i !== selected) table.append(h("tr", {}, h("td", {}, String(i)), h("td", {}, String(nd.sent[i] ?? "-")), h("td", {}, String(nd.acked[i] ?? "-"))));
      kids.push(table, h("p", { class: "note" }, "nextIndex: after the last append sent; matchIndex: the highest index acknowledged."));
    }
    $("detail").replaceChildren(...kids);
  }
  function drawLogs() {
    const W = 60, rows = document.createDocumentFragment();
    for (let i = 1; i <= N; i++) {
      const nd = state.nodes[i], from = Math.max(0, nd.log.length - W), row = h("div", { class: "logrow" }, h("span", { class: "id" }, String(i)));
      for (let j = from; j < nd.log.length; j++) {
        const index = nd.first + j, term = nd.log[j];
        const cell = h("i", { class: index > nd.commit ? "uncommitted" : null, title: `index ${index} term ${term}${index <= nd.applied ? " applied" : index <= nd.commit ? " committed" : ""}` });
        cell.style.background = TERM_COLORS[term % TERM_COLORS.length] || ""; // CSSOM, which the policy allows
        row.append(cell);
      }
      row.append(" ", h("span", {}, String(nd.last)));
      rows.append(row);
    }
    $("log-rows").replaceChildren(rows);
  }
  function drawMarks() {
    const c = $("marks"), w = (c.width = c.clientWidth || 800), ctx = c.getContext("2d");
    const color = { role: "#2a9d8f", fault: "#e63946", measure: "#1d3557", violation: "#000", client: "#999" };
    for (let i = 0; i < ev.length; i++) {
      const k = T.kinds[ev[i][1] - 1];
      if (!(k in color) || (k === "role" && str[ev[i][7]] !== "leader") || (k === "fault" && str[ev[i][7]].startsWith("conn "))) continue;
      ctx.fillStyle = color[k];
      const x = Math.round((i / Math.max(1, ev.length - 1)) * (w - 1));
      ctx.fillRect(x, k === "client" ? 12 : k === "role" ? 0 : 4, k === "violation" ? 3 : 1, k === "client" ? 4 : 8);
    }
  }

  // ---- navigation -------------------------------------------------------------
  function go(i) {
    i = Math.max(0, Math.min(ev.length, i));
    if (i === pos + 1) apply(state, ev[pos]);
    else if (i !== pos) state = stateAt(i);
    pos = i;
    vtime = pos > 0 ? ev[pos - 1][0] : 0;
    history.replaceState(null, "", "#e=" + pos + "&n=" + selected);
    draw();
  }
  function find(test, dir) {
    for (let i = pos + (dir > 0 ? 0 : -2); i >= 0 && i < ev.length; i += dir) if (test(ev[i])) return i + 1;
    return pos;
  }
  const isLeaderChange = (e) => T.kinds[e[1] - 1] === "role" && str[e[7]] === "leader";
  const isFault = (e) => T.kinds[e[1] - 1] === "fault" && !str[e[7]].startsWith("conn ");
  const isKind = (e) => T.kinds[e[1] - 1] === $("kind").value;
  function setSpeed(i) { speed = Math.max(0, Math.min(SPEEDS.length - 1, i)); $("speed").value = String(speed); }
  function togglePlay() {
    playing = !playing;
    $("play").textContent = playing ? "pause" : "play";
    lastFrame = performance.now();
    if (playing) requestAnimationFrame(frame);
  }
  function frame(now) {
    if (!playing) return;
    vtime += (now - lastFrame) * 1e6 * SPEEDS[speed];
    lastFrame = now;
    let i = pos;
    while (i < ev.length && ev[i][0] <= vtime) i++;
    if (i !== pos) { const keep = vtime; go(i); vtime = keep; } else draw();
    if (pos >= ev.length) { togglePlay(); return; }
    requestAnimationFrame(frame);
  }

  function start(trace) {
    T = trace; ev = T.events; str = T.strings; N = Math.max(1, T.nodes);
    $("name").textContent = T.name;
    $("event-count").textContent = String(ev.length);
    $("slider").max = String(ev.length);
    SPEEDS.forEach((s, i) => { const o = document.createElement("option"); o.value = String(i); o.textContent = s + "x"; $("speed").appendChild(o); });
    setSpeed(speed);
    T.kinds.forEach((k) => { const o = document.createElement("option"); o.value = k; o.textContent = k; $("kind").appendChild(o); });
    $("kind").value = "role";
    // The link is the server's own page; anything else (a javascript: URL, say) is not linked.
    if (typeof T.history === "string" && /^[\w-]+\.html$/.test(T.history)) { const a = $("history-link"); a.href = T.history; a.hidden = false; }
    matchMessages();
    let s = fresh();
    snaps.push(clone(s));
    for (let i = 0; i < ev.length; i++) {
      apply(s, ev[i]);
      if ((i + 1) % SNAP === 0) snaps.push(clone(s));
    }
    state = fresh();
    drawMarks();
    $("first").onclick = () => go(0);
    $("last").onclick = () => go(ev.length);
    $("back").onclick = () => go(pos - 1);
    $("fwd").onclick = () => go(pos + 1);
    $("play").onclick = togglePlay;
    $("speed").onchange = () => setSpeed(parseInt($("speed").value, 10));
    $("prev-kind").onclick = () => go(find(isKind, -1));
    $("next-kind").onclick = () => go(find(isKind, 1));
    $("slider").oninput = () => go(parseInt($("slider").value, 10));
    $("ring").onclick = (e) => { const g = e.target.closest(".node"); if (g) { selected = parseInt(g.dataset.id, 10); go(pos); } };
    document.onkeydown = (e) => {
      if (e.target.tagName === "SELECT") return;
      const step = e.shiftKey ? 100 : 1;
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
        case "[": setSpeed(speed - 1); break;
        case "Home": go(0); break;
        case "End": go(ev.length); break;
        case "?": $("keys").hidden = !$("keys").hidden; break;
        case "Escape": $("keys").hidden = true; break;
        default:
          if (e.key >= "1" && e.key <= "9" && +e.key <= N) { selected = +e.key; go(pos); }
          else return;
      }
      e.preventDefault();
    };
    const h = new URLSearchParams(location.hash.slice(1));
    if (h.has("n")) selected = Math.max(1, Math.min(N, parseInt(h.get("n"), 10) || 1));
    go(h.has("e") ? parseInt(h.get("e"), 10) || 0 : 0);
    window.raftsimReady = true;
  }

  window.raftsimGo = (i) => go(i); // for tests
  try {
    if (window.RAFTSIM_TRACE) start(window.RAFTSIM_TRACE);
    else fetch("trace.json").then((r) => { if (!r.ok) throw new Error("trace.json: HTTP " + r.status); return r.json(); })
      .then(start).catch((e) => fail(e.message));
  } catch (e) {
    fail(e.message);
  }
})();
