// The task-queue page: depth, workers, throughput and recent jobs, live over /ws/queue (polling while it is down).
import { api, h, num, state, toast } from "/static/app.js";
import { barChart } from "/static/charts.js";

const short = (v) => String(v || "").replace(/^QUEUE_JOB_STATE_/, "").toLowerCase();
const isAdmin = () => state.me && state.me.role === "admin";
const ago = (iso, now) => {
  if (!iso) return "—";
  const s = Math.round((now - new Date(iso)) / 1000);
  return s < 0 ? `in ${-s}s` : s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : new Date(iso).toLocaleString();
};

export function queueView() {
  const queue = h("select", { id: "queue-filter" }, ["", "screening", "mail"].map((q) => h("option", { value: q }, q || "all queues")));
  const jobState = h("select", { id: "queue-state" }, ["", "todo", "doing", "succeeded", "failed", "cancelled", "aborted"]
    .map((s) => h("option", { value: s }, s || "any state")));
  const body = h("div", { id: "queue-body" }, h("p", { class: "muted" }, "Connecting…"));
  const feed = new QueueFeed((snap) => body.replaceChildren(render(snap, () => feed.refresh())));
  const restart = () => feed.start({ queue: queue.value, state: jobState.value });
  queue.addEventListener("change", restart);
  jobState.addEventListener("change", restart);
  restart();
  // The view is replaced on navigation: stop following the queue then.
  window.addEventListener("hashchange", () => feed.stop(), { once: true });
  return h("div", {}, h("div", { class: "row spread" }, h("h1", {}, "Task queue"),
    h("div", { class: "row" }, h("label", {}, "Queue", queue), h("label", {}, "State", jobState))), body);
}

class QueueFeed {
  constructor(onSnapshot) {
    this.onSnapshot = onSnapshot;
    this.ws = null;
    this.timer = null;
    this.attempt = 0;
    this.closed = true;
    this.params = new URLSearchParams();
  }

  start(filters) {
    this.stop();
    this.closed = false;
    this.params = new URLSearchParams({ limit: "50" });
    for (const [k, v] of Object.entries(filters)) if (v) this.params.set(k, v);
    this.connect();
  }

  stop() {
    this.closed = true;
    if (this.ws) this.ws.close();
    this.ws = null;
    clearInterval(this.timer);
    this.timer = null;
  }

  mark(kind) { document.body.dataset.queueFeed = kind; }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/queue?${this.params}`, ["hiremesh.v1", `bearer.${state.token}`]);
    this.ws = ws;
    ws.onopen = () => { this.attempt = 0; this.mark("on"); clearInterval(this.timer); this.timer = null; };
    ws.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type === "queue_snapshot") this.onSnapshot(msg.snapshot);
    };
    ws.onclose = () => {
      if (this.closed || this.ws !== ws) return;
      this.mark("polling");
      if (!this.timer) { this.timer = setInterval(() => this.refresh(), 2000); this.refresh(); }
      const delay = Math.min(30000, 500 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
      this.attempt += 1;
      setTimeout(() => !this.closed && this.ws === ws && this.connect(), delay);
    };
  }

  async refresh() {
    try {
      const data = await api("GET", `/task-queue?${this.params}`);
      if (!this.closed) this.onSnapshot(data.snapshot);
    } catch (err) {
      toast(err.message, "error");
    }
  }
}

function render(snap, refresh) {
  const now = new Date(snap.time || Date.now());
  const depth = snap.depth || [];
  const workers = snap.workers || [];
  const jobs = snap.jobs || [];
  const minutes = snap.throughput_minutes || 15;
  const start = Math.floor(now / 60000) * 60000 - (minutes - 1) * 60000;
  // A label every third of the window, so the axis stays readable on 15 to 180 bars.
  const every = Math.max(1, Math.round(minutes / 3));
  const perMinute = Array.from({ length: minutes }, (_, i) => ({
    label: (minutes - 1 - i) % every === 0 ? new Date(start + i * 60000).toTimeString().slice(0, 5) : "", value: 0 }));
  let ok = 0, bad = 0;
  for (const t of snap.throughput || []) {
    const slot = Math.round((new Date(t.minute) - start) / 60000);
    const s = Number(t.succeeded) || 0, f = Number(t.failed) || 0;
    ok += s; bad += f;
    if (slot >= 0 && slot < minutes) perMinute[slot].value += s + f;
  }
  return h("div", {},
    h("div", { class: "grid two" },
      h("div", { class: "card" }, h("h2", {}, "Waiting"), depth.length ? h("table", { id: "queue-depth" },
        h("thead", {}, h("tr", {}, h("th", {}, "Queue"), h("th", {}, "Priority"), h("th", {}, "Ready"), h("th", {}, "Retry later"))),
        h("tbody", {}, depth.map((d) => h("tr", { dataset: { queue: d.queue } }, h("td", {}, d.queue), h("td", {}, String(d.priority)),
          h("td", { class: "ready" }, String(d.ready)), h("td", {}, String(d.scheduled)))))) : h("p", { class: "empty", id: "queue-depth" }, "Nothing waiting.")),
      h("div", { class: "card" }, h("h2", {}, `Finished per minute (last ${minutes} min)`),
        h("div", { class: "chart", id: "queue-throughput" }, barChart(perMinute)),
        h("p", { class: "small muted" }, `${ok} succeeded, ${bad} failed`))),
    h("div", { class: "card" }, h("h2", {}, "Workers"), h("div", { class: "table-wrap" }, h("table", { id: "queue-workers" },
      h("thead", {}, h("tr", {}, h("th", {}, "Worker"), h("th", {}, "Queues"), h("th", {}, "Heartbeat"), h("th", {}, "Running"))),
      h("tbody", {}, workers.length ? workers.map((w) => h("tr", { class: w.stalled ? "stalled" : "" },
        h("td", {}, w.name || `#${w.id}`), h("td", {}, (w.queues || []).join(", ")),
        h("td", { class: w.stalled ? "error-text" : "" }, ago(w.last_heartbeat, now) + (w.stalled ? " (stalled)" : "")),
        h("td", { class: "small" }, (w.current_jobs || []).map((j) => `${j.task_name} #${j.id}`).join(", ") || "idle")))
        : h("tr", {}, h("td", { colspan: 4, class: "muted" }, "No worker is running.")))))),
    h("div", { class: "card" }, h("h2", {}, "Recent jobs"), h("div", { class: "table-wrap" }, h("table", { id: "queue-jobs" },
      h("thead", {}, h("tr", {}, h("th", {}, "Job"), h("th", {}, "Task"), h("th", {}, "State"), h("th", {}, "Attempts"),
        h("th", { class: "hide-sm" }, "Started"), h("th", {}, "Duration"), h("th", {}, "Error"), h("th", {}, ""))),
      h("tbody", {}, jobs.map((j) => jobRow(j, now, refresh)))))));
}

function jobRow(j, now, refresh) {
  const st = short(j.state);
  const act = (label, path) => h("button", { class: `secondary ${label.toLowerCase()}`, onclick: async (e) => {
    e.target.disabled = true;
    try {
      const reply = await api("POST", `/task-queue/jobs/${j.id}/${path}`);
      toast(reply.message || `${label}: job ${j.id}`);
      refresh();
    } catch (err) {
      toast(err.message, "error");
      e.target.disabled = false;
    }
  } }, label);
  const actions = !isAdmin() ? null : ["todo", "doing"].includes(st) ? act("Cancel", "cancel")
    : ["failed", "cancelled", "aborted"].includes(st) ? act("Retry", "retry") : null;
  const ref = j.kind === "screening" ? h("a", { href: `#/screenings/${j.reference_id}`, class: "small" }, "task")
    : j.kind === "mail" ? h("a", { href: "#/mail", class: "small" }, "e-mail") : null;
  return h("tr", { class: "job-row", dataset: { id: j.id, state: st, task: j.task_name } },
    h("td", {}, `#${j.id}`, " ", ref), h("td", {}, j.task_name, h("div", { class: "small muted" }, j.queue)),
    h("td", {}, h("span", { class: `pill state-${st}` }, st)), h("td", {}, String(j.attempts ?? 0)),
    h("td", { class: "hide-sm small" }, ago(j.started_at, now)),
    h("td", {}, j.duration_ms ? `${num(j.duration_ms / 1000, 2)} s` : "—"),
    h("td", { class: "small error-text" }, j.error || ""), h("td", {}, actions));
}
