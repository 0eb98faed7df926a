// hiremesh web UI: a small single-page app over the gateway's REST API and task WebSocket.
// No build step: plain ES modules; every text from the server goes through textContent.
import { barChart, lineChart } from "/static/charts.js";
import { mailView } from "/static/mail.js";
import { queueView } from "/static/queue.js";
import { STATUS, TERMINAL_STATUSES, statusOfState } from "/static/task_vocabulary.js";

const API = "/api/v1";
// The browser keeps only a short-lived session JWT, in sessionStorage (gone with the tab), never the API key
// typed in: signIn exchanges that for a JWT at POST /auth/token. Old versions kept keys in localStorage.
localStorage.removeItem("hiremesh.token");
export const state = { token: sessionStorage.getItem("hiremesh.session") || "", me: null };
const $ = (sel, root = document) => root.querySelector(sel);

// --- DOM helper ---------------------------------------------------------------------------------
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function toast(message, kind = "") {
  const el = h("div", { class: `toast ${kind}` }, message);
  $("#toasts").append(el);
  setTimeout(() => el.remove(), kind === "error" ? 6000 : 3000);
}

export const short = (value) => String(value || "").replace(/^[A-Z]+(_[A-Z]+)*?_(?=[A-Z]+$)/, "").toLowerCase();
const enumLabel = (value, prefix) => String(value || "").replace(prefix, "").toLowerCase().replace(/_/g, " ");
const pct = (v) => `${Math.round(Number(v) || 0)}%`;
export const num = (v, digits = 1) => (v === null || v === undefined || Number.isNaN(Number(v)) ? "–" : Number(v).toFixed(digits));
const canWrite = () => state.me && state.me.role !== "viewer";

// --- REST ---------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await resp.text();
  const data = text ? JSON.parse(text) : null;
  if (resp.status === 401 && path !== "/me" && path !== "/auth/token") {
    signOut("Your session ended; sign in again.");
  }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

function uploadResume(file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${API}/candidates`);
    xhr.setRequestHeader("Authorization", `Bearer ${state.token}`);
    // Scans and photos go through OCR, which can take a minute on a busy server: allow more than the default.
    xhr.setRequestHeader("X-Request-Timeout", "180s");
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { /* not JSON: reported below */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data));
    };
    xhr.onerror = () => reject(new ApiError(0, { message: "network error" }));
    const form = new FormData();
    form.append("resume", file, file.name);
    xhr.send(form);
  });
}

// --- live task updates: WebSocket with backoff, polling while it is down ------------------------
const TERMINAL = TERMINAL_STATUSES;

class TaskFeed {
  constructor() {
    this.handlers = new Map();
    this.attempt = 0;
    this.ws = null;
    this.pollTimer = null;
    this.closed = true;
  }

  start() {
    this.closed = false;
    this.connect();
  }

  stop() {
    this.closed = true;
    if (this.ws) this.ws.close();
    clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  setLive(kind) {
    const dot = $("#live");
    dot.className = `live ${kind}`;
    dot.title = kind === "on" ? "live updates" : kind === "polling" ? "reconnecting (polling)" : "offline";
    document.body.dataset.feed = kind;
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/tasks`, ["hiremesh.v1", `bearer.${state.token}`]);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.setLive("on");
      clearInterval(this.pollTimer);
      this.pollTimer = null;
      for (const id of this.handlers.keys()) ws.send(JSON.stringify({ action: "watch", task_id: id }));
    };
    ws.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type === "task_update" || msg.type === "error") this.dispatch(msg);
    };
    ws.onclose = () => {
      if (this.closed) return;
      this.setLive("polling");
      this.startPolling();
      // Exponential backoff with jitter, capped at 30 s.
      const delay = Math.min(30000, 500 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
      this.attempt += 1;
      setTimeout(() => !this.closed && this.connect(), delay);
    };
  }

  dispatch(msg) {
    const handler = this.handlers.get(msg.task_id);
    if (!handler) return;
    if (msg.type === "error") {
      handler({ task_id: msg.task_id, status: STATUS.FAILED, progress: 0, error: msg.message });
      this.handlers.delete(msg.task_id);
      return;
    }
    handler(msg);
    if (TERMINAL.has(msg.status)) this.handlers.delete(msg.task_id);
  }

  watch(taskId, handler) {
    this.handlers.set(taskId, handler);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ action: "watch", task_id: taskId }));
    } else {
      this.startPolling();
    }
  }

  startPolling() {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => this.pollOnce(), 2000);
    this.pollOnce();
  }

  async pollOnce() {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) return;
    for (const id of [...this.handlers.keys()]) {
      try {
        const path = id.startsWith("op_") ? `/operations/${id}` : `/screenings/${id}`;
        const data = await api("GET", path);
        this.dispatch(id.startsWith("op_") ? { type: "task_update", ...data } : screeningToUpdate(data));
      } catch (err) {
        if (err.status === 404) this.dispatch({ type: "error", task_id: id, message: err.message });
      }
    }
  }
}

function screeningToUpdate({ task, result }) {
  const status = statusOfState(short(task.state));
  return {
    type: "task_update", task_id: task.id, status, progress: status === STATUS.COMPLETED ? 100 : task.percent,
    stage: short(task.stage), message: task.message, result: result && result.id ? result : null,
    error: task.error || null,
  };
}

const feed = new TaskFeed();

// --- sign in ------------------------------------------------------------------------------------
async function signIn(token) {
  state.token = token.trim();
  try {
    const session = await api("POST", "/auth/token", {});
    state.token = session.token;
    state.me = await api("GET", "/me");
  } catch (err) {
    state.token = "";
    state.me = null;
    throw err;
  }
  sessionStorage.setItem("hiremesh.session", state.token);
  $("#who-name").textContent = state.me.user;
  $("#who-role").textContent = state.me.role;
  $("#nav").hidden = false;
  $("#who").hidden = false;
  feed.start();
}

function signOut(message) {
  sessionStorage.removeItem("hiremesh.session");
  state.token = "";
  state.me = null;
  feed.stop();
  $("#nav").hidden = true;
  $("#who").hidden = true;
  if (message) toast(message, "error");
  location.hash = "#/signin";
  route();
}

function signInView() {
  const error = h("div", { class: "error-box", hidden: true });
  const input = h("input", { id: "token", type: "password", autocomplete: "off", placeholder: "hmk_… or a JWT", required: true });
  const form = h("form", {
    id: "signin-form",
    onsubmit: async (e) => {
      e.preventDefault();
      try {
        await signIn(input.value);
        location.hash = "#/jobs";
      } catch (err) {
        error.hidden = false;
        error.textContent = err.status === 401 ? "That token was not accepted." : err.message;
      }
    },
  }, h("label", {}, "API token", input), error, h("button", { type: "submit" }, "Sign in"));
  return h("div", { class: "card signin" }, h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "Paste the token from ", h("code", {}, "hiremesh up"), " or ",
      h("code", {}, "hiremesh users token NAME"), "."), form);
}

// --- jobs ---------------------------------------------------------------------------------------
async function jobsView() {
  const list = h("div", { id: "jobs-list" }, h("p", { class: "muted" }, "Loading…"));
  const page = h("div", {}, h("div", { class: "row spread" }, h("h1", {}, "Jobs")),
    h("div", { class: "grid two" }, h("div", { class: "card" }, h("h2", {}, "Open positions"), list),
      canWrite() ? jobForm(() => loadJobs(list)) : h("div", { class: "card muted" }, "Viewers can browse jobs but not create them.")));
  loadJobs(list);
  return page;
}

async function loadJobs(list) {
  try {
    const data = await api("GET", "/jobs?page_size=100");
    list.replaceChildren();
    if (!data.jobs.length) {
      list.append(h("p", { class: "empty" }, "No jobs yet — create the first one."));
      return;
    }
    list.append(h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Title"), h("th", { class: "hide-sm" }, "Location"),
      h("th", {}, "Status"))), h("tbody", {}, data.jobs.map((job) => h("tr", { class: "job-row" },
      h("td", {}, h("a", { href: `#/jobs/${job.id}` }, job.title || "(untitled)"), h("div", { class: "small muted" }, job.company)),
      h("td", { class: "hide-sm" }, job.location || "—"),
      h("td", {}, h("span", { class: "pill" }, enumLabel(job.status, "JOB_STATUS_"))))))));
  } catch (err) {
    list.replaceChildren(h("div", { class: "error-box" }, err.message));
  }
}

function jobForm(onCreated) {
  const field = (name, label, attrs = {}) => h("label", {}, label, h(attrs.tag || "input", { name, ...attrs, tag: undefined }));
  const error = h("div", { class: "error-box", hidden: true });
  const form = h("form", {
    id: "job-form",
    onsubmit: async (e) => {
      e.preventDefault();
      const f = new FormData(form);
      const body = {
        title: f.get("title"), company: f.get("company"), location: f.get("location"),
        description: f.get("description"), min_experience: Number(f.get("min_experience") || 0),
        required_skills: String(f.get("required_skills") || "").split(",").map((s) => s.trim()).filter(Boolean),
        status: "open",
      };
      try {
        const { job } = await api("POST", "/jobs", body);
        toast(`Created “${job.title}”`);
        form.reset();
        error.hidden = true;
        onCreated();
        location.hash = `#/jobs/${job.id}`;
      } catch (err) {
        error.hidden = false;
        error.textContent = err.message;
      }
    },
  },
  field("title", "Title", { required: true, placeholder: "Senior Data Engineer" }),
  h("div", { class: "grid two" }, field("company", "Company"), field("location", "Location", { placeholder: "Berlin" })),
  h("div", { class: "grid two" }, field("min_experience", "Min. years", { type: "number", min: 0, step: 0.5, value: 0 }),
    field("required_skills", "Required skills", { placeholder: "python, sql, airflow" })),
  field("description", "Description", { tag: "textarea", required: true }),
  error, h("button", { type: "submit" }, "Create job"));
  return h("div", { class: "card" }, h("h2", {}, "New job"), form);
}

// --- a job and its best candidates --------------------------------------------------------------
// The badge shows the number the list is ordered by (MatchExplanation.score), whatever the mode.
function relevanceBadge(match) {
  const score = Number(match.score) || 0;
  const parts = `meaning ${num(match.cosine_similarity, 2)} · keywords ${num(match.lexical_similarity, 2)}`;
  if (match.fusion === "weighted_z" || match.fusion === "rrf") {
    const level = match.fusion === "rrf" ? "mid" : score >= 3 ? "high" : score >= 1.5 ? "mid" : "low";
    const text = match.fusion === "rrf" ? num(score * 100, 2) : `${num(score, 1)}σ`;
    const title = match.fusion === "rrf" ? `reciprocal rank fusion (${parts})`
      : `relevance: ${num(score, 1)} standard deviations above a typical candidate for this job (${parts})`;
    return h("span", { class: `badge ${level} relevance`, title }, text);
  }
  const value = Math.round(score * 100);
  const level = match.fusion === "lexical" ? (value >= 15 ? "high" : value >= 7 ? "mid" : "low")
    : value >= 60 ? "high" : value >= 40 ? "mid" : "low";
  const title = match.fusion === "lexical" ? "keyword similarity (IDF-weighted)" : "cosine similarity";
  return h("span", { class: `badge ${level} relevance`, title }, `${value}%`);
}

async function jobView(jobId) {
  const { job } = await api("GET", `/jobs/${jobId}`);
  const matches = h("div", { id: "matches" }, h("p", { class: "muted" }, "Finding candidates…"));
  const result = h("div", { id: "result" });
  const mode = h("select", { id: "mode" }, ["hybrid", "vector", "keyword"].map((m) => h("option", { value: m }, m)));
  const minSim = h("input", { id: "min-sim", type: "number", min: 0, max: 1, step: 0.05, value: 0 });
  const reload = () => loadMatches(job, matches, result, mode.value, minSim.value);
  mode.addEventListener("change", reload);
  minSim.addEventListener("change", reload);
  const screenAll = h("button", { id: "screen-all", disabled: !canWrite(), onclick: () => screenAllShown(job, matches, result) }, "Screen all");
  const page = h("div", {},
    h("a", { href: "#/jobs", class: "small" }, "← Jobs"),
    h("div", { class: "card" }, h("h1", {}, job.title), h("div", { class: "muted" }, [job.company, job.location].filter(Boolean).join(" · ")),
      h("div", { class: "row", style: undefined }, (job.required_skills || []).map((s) => h("span", { class: "chip" }, s))),
      h("p", {}, job.description)),
    h("div", { class: "grid two" },
      h("div", { class: "card" }, h("div", { class: "row spread" }, h("h2", {}, "Best matching candidates"), screenAll),
        h("div", { class: "row" }, h("label", {}, "Mode", mode), h("label", {}, "Min. similarity", minSim)), matches),
      h("div", {}, result)));
  reload();
  return page;
}

async function loadMatches(job, box, resultBox, mode, minSimilarity) {
  try {
    const data = await api("GET", `/jobs/${job.id}/candidates?top_k=20&mode=${mode}&min_similarity=${Number(minSimilarity) || 0}`);
    box.replaceChildren();
    if (!data.hits.length) {
      box.append(h("p", { class: "empty" }, "No matching candidates yet. Upload resumes on the Candidates page."));
      return;
    }
    for (const hit of data.hits) box.append(matchCard(job, hit, resultBox));
  } catch (err) {
    box.replaceChildren(h("div", { class: "error-box" }, err.message));
  }
}

function matchCard(job, hit, resultBox) {
  const c = hit.candidate;
  const matched = new Set((hit.match.matched_skills || []).map((s) => s.toLowerCase()));
  const missing = (job.required_skills || []).filter((s) => !matched.has(s.toLowerCase()));
  const status = h("div", { class: "screen-status", hidden: true },
    h("div", { class: "progress" }, h("div", {})), h("span", { class: "stage small muted" }, ""));
  const button = h("button", { class: "secondary screen", disabled: !canWrite(), onclick: () => screenOne(job, c, card, resultBox) }, "Screen");
  const card = h("div", { class: "match-card", dataset: { candidateId: c.id } },
    relevanceBadge(hit.match),
    h("div", {}, h("strong", {}, c.name || c.resume_file_name || "Unnamed"),
      h("div", { class: "small muted" }, [c.headline, c.location, c.years_experience ? `${num(c.years_experience)} yrs` : ""].filter(Boolean).join(" · ")),
      h("div", {}, (hit.match.matched_skills || []).map((s) => h("span", { class: "chip match" }, s)),
        missing.map((s) => h("span", { class: "chip missing", title: "required, not found" }, s))),
      status),
    button);
  return card;
}

function setProgress(card, update) {
  const status = $(".screen-status", card);
  status.hidden = false;
  const bar = $(".progress", status);
  bar.classList.toggle("done", update.status === STATUS.COMPLETED);
  bar.classList.toggle("failed", update.status === STATUS.FAILED);
  bar.firstChild.style.width = `${Math.max(0, Math.min(100, Number(update.progress) || 0))}%`;
  bar.dataset.progress = String(Math.round(Number(update.progress) || 0));
  $(".stage", status).textContent = update.status === STATUS.FAILED ? `failed: ${update.error || ""}`
    : update.status === STATUS.COMPLETED ? "done" : `${update.stage || update.status} · ${pct(update.progress)}`;
}

async function screenOne(job, candidate, card, resultBox) {
  const button = $("button.screen", card);
  button.disabled = true;
  setProgress(card, { status: STATUS.STARTED, progress: 0, stage: "queued" });
  try {
    const { task } = await api("POST", "/screenings", { candidate_id: candidate.id, job_id: job.id });
    feed.watch(task.id, (update) => {
      setProgress(card, update);
      if (update.status === STATUS.COMPLETED) {
        button.disabled = false;
        button.textContent = "Rescreen";
        const open = h("a", { href: "#", class: "small view-result", onclick: (e) => { e.preventDefault(); showResult(resultBox, update.result, task.id); } }, "View result");
        $(".screen-status", card).append(open);
        showResult(resultBox, update.result, task.id);
      } else if (update.status === STATUS.FAILED) {
        button.disabled = false;
      }
    });
  } catch (err) {
    setProgress(card, { status: STATUS.FAILED, progress: 100, error: err.message });
    button.disabled = false;
  }
}

async function screenAllShown(job, matches, resultBox) {
  const cards = [...matches.querySelectorAll(".match-card")];
  for (const card of cards) {
    await screenOne(job, { id: card.dataset.candidateId }, card, resultBox);
  }
}

async function showResult(box, result, taskId) {
  if (!result || !result.analysis) {
    const data = await api("GET", `/screenings/${taskId}`);
    result = data.result;
  }
  box.replaceChildren(resultView(result));
  box.scrollIntoView({ behavior: "smooth", block: "start" });
}

function scoreBar(label, value, max = 100) {
  const width = Math.max(0, Math.min(100, (Number(value) || 0) / max * 100));
  const bar = h("div", {});
  bar.style.width = `${width}%`;
  return h("div", { class: "bar-row" }, h("span", {}, label), h("div", { class: "bar" }, bar), h("span", { class: "small" }, num(value, max === 1 ? 2 : 0)));
}

function resultView(result) {
  const a = result.analysis || {};
  const safety = result.safety || {};
  const traces = result.traces || [];
  const maxMs = Math.max(1, ...traces.map((t) => Number(t.duration_ms) || 0));
  return h("div", { class: "card", id: "screening-result" },
    h("div", { class: "row spread" },
      h("div", {}, h("h2", {}, "Screening result"), h("div", { class: "small muted" },
        `engine ${result.engine}${result.model ? ` · ${result.model}` : ""} · ${num(result.duration_ms, 0)} ms`),
      result.degraded ? h("div", { class: "small sev-MEDIUM" }, `degraded: ${result.degraded_reason}`) : null),
      h("div", { class: "score", id: "match-score" }, a.match_score ?? 0)),
    a.recommendation ? h("p", {}, h("strong", {}, "Recommendation: "), a.recommendation) : null,
    h("p", {}, a.summary),
    h("h3", {}, "Score breakdown"),
    scoreBar("Skills", a.skills_score), scoreBar("Experience", a.experience_score), scoreBar("Keywords", a.lexical_score), scoreBar("Meaning", a.semantic_score),
    scoreBar("Confidence", a.confidence, 1),
    h("div", { class: "grid two" },
      h("div", {}, h("h3", {}, "Strengths"), h("ul", {}, (a.strengths || []).map((s) => h("li", {}, s)))),
      h("div", {}, h("h3", {}, "Weaknesses"), h("ul", {}, (a.weaknesses || []).map((s) => h("li", {}, s))))),
    h("h3", {}, "Skills"),
    h("div", { id: "missing-skills" }, (a.matched_skills || []).map((s) => h("span", { class: "chip match" }, s)),
      (a.missing_skills || []).map((s) => h("span", { class: "chip missing" }, s))),
    h("h3", {}, "Interview questions"),
    h("ol", { class: "questions" }, (a.interview_questions || []).map((q) =>
      h("li", {}, q.question, h("div", { class: "small muted" }, [q.skill, q.rationale].filter(Boolean).join(" — "))))),
    h("h3", {}, "Agent timings"),
    traces.length ? traces.map((t) => {
      const bar = h("div", {});
      bar.style.width = `${(Number(t.duration_ms) || 0) / maxMs * 100}%`;
      return h("div", { class: "bar-row" }, h("span", {}, t.agent), h("div", { class: "bar" }, bar),
        h("span", { class: "small" }, `${num(t.duration_ms, 0)} ms`));
    }) : h("p", { class: "muted small" }, "No agent traces."),
    safetyView(safety));
}

function safetyView(s) {
  const tox = s.toxicity || {};
  return h("div", { id: "safety-report" },
    h("h3", {}, "Safety report"),
    h("div", { class: s.has_critical_issues ? "error-box" : s.has_issues ? "error-box" : "ok-box" },
      s.summary || (s.has_issues ? "Issues found" : "No issues found")),
    h("table", {}, h("tbody", {},
      h("tr", {}, h("th", {}, "PII"), h("td", {}, (s.pii || []).length ? (s.pii || []).map((p) =>
        h("span", { class: "chip" }, `${p.entity_type} ${num(p.score, 2)}`)) : "none")),
      h("tr", {}, h("th", {}, "Bias"), h("td", {}, (s.bias || []).length ? (s.bias || []).map((b) =>
        h("div", { class: `sev-${short(b.severity).toUpperCase()}` }, `“${b.term}” (${b.category}, ${short(b.severity)})`,
          b.alternative ? h("span", { class: "muted" }, ` → ${b.alternative}`) : null)) : "none")),
      h("tr", {}, h("th", {}, "Toxicity"), h("td", {}, `${num(tox.score, 3)} ${tox.toxic ? "toxic" : "ok"} (${tox.backend || "n/a"})`)),
      h("tr", {}, h("th", {}, "Validation"), h("td", {}, (s.validation || []).length ? (s.validation || []).map((v) =>
        h("div", {}, `${v.field}: ${v.message}${v.fixed ? " (fixed)" : ""}`)) : "passed")))));
}

async function screeningView(taskId) {
  const data = await api("GET", `/screenings/${taskId}`);
  const box = h("div", {});
  if (data.result && data.result.id) box.append(resultView(data.result));
  else box.append(h("div", { class: "card" }, `Task is ${short(data.task.state)} (${pct(data.task.percent)}).`));
  return box;
}

// --- candidates ---------------------------------------------------------------------------------
async function candidatesView() {
  const list = h("div", { id: "candidates-list" });
  const pager = h("div", { class: "pager" });
  const tokens = [""];
  const load = async (index) => {
    try {
      const data = await api("GET", `/candidates?page_size=25&page_token=${encodeURIComponent(tokens[index])}`);
      list.replaceChildren(candidateTable(data.candidates, data.total_size));
      pager.replaceChildren(
        h("button", { class: "secondary", disabled: index === 0, onclick: () => load(index - 1) }, "Previous"),
        h("button", { class: "secondary", disabled: !data.next_page_token, onclick: () => { tokens[index + 1] = data.next_page_token; load(index + 1); } }, "Next"));
    } catch (err) {
      list.replaceChildren(h("div", { class: "error-box" }, err.message));
    }
  };
  load(0);
  return h("div", {}, h("h1", {}, "Candidates"),
    canWrite() ? uploader(() => load(0)) : null,
    h("div", { class: "card" }, list, pager));
}

function candidateTable(candidates, total) {
  if (!candidates.length) return h("p", { class: "empty" }, "No candidates yet. Drop resumes above.");
  return h("div", {}, h("p", { class: "small muted" }, `${total} candidates`),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", { class: "hide-sm" }, "Location"), h("th", { class: "hide-sm" }, "Years"), h("th", {}, "Skills"))),
      h("tbody", {}, candidates.map((c) => h("tr", { class: "candidate-row" },
        h("td", {}, h("a", { href: `#/candidates/${c.id}` }, candidateName(c)), h("div", { class: "small muted" }, c.resume_file_name || c.email)),
        h("td", { class: "hide-sm" }, c.location || "—"), h("td", { class: "hide-sm" }, num(c.years_experience)),
        h("td", {}, (c.skills || []).slice(0, 8).map((s) => h("span", { class: "chip" }, s))))))));
}

// A resume without a findable name is "Unnamed" (name_source NAME_SOURCE_UNNAMED), never a heading or a skill.
function candidateName(c) {
  if (c.name) return h("strong", { class: "candidate-name" }, c.name);
  return h("em", { class: "candidate-name unnamed", title: "No name in the resume or its file name" }, "Unnamed");
}

const NAME_SOURCES = { NAME_SOURCE_RESUME: "from the resume", NAME_SOURCE_FILE_NAME: "from the file name", NAME_SOURCE_GIVEN: "entered" };

async function candidateView(id) {
  const { candidate: c } = await api("GET", `/candidates/${encodeURIComponent(id)}`);
  const row = (label, value) => (value ? h("tr", {}, h("th", {}, label), h("td", {}, value)) : null);
  const education = (c.education || []).map((e) => h("li", { class: "education-entry" },
    [e.degree, e.institution].filter(Boolean).join(" — ") + (e.year ? ` (${e.year})` : "")));
  return h("div", { id: "candidate-view" },
    h("p", {}, h("a", { href: "#/candidates" }, "← Candidates")),
    h("h1", {}, candidateName(c), c.name_source && NAME_SOURCES[c.name_source] ? h("span", { class: "small muted" }, ` ${NAME_SOURCES[c.name_source]}`) : null),
    h("div", { class: "card" }, h("table", { class: "profile" }, h("tbody", {},
      row("Current title", c.headline), row("Location", c.location), row("E-mail", c.email), row("Phone", c.phone),
      row("Experience", c.years_experience ? `${num(c.years_experience)} years` : ""), row("Resume file", c.resume_file_name)))),
    h("div", { class: "card" }, h("h2", {}, "Education"),
      education.length ? h("ul", { class: "education" }, education) : h("p", { class: "empty" }, "No education found in the resume.")),
    h("div", { class: "card" }, h("h2", {}, "Skills"), (c.skills || []).map((s) => h("span", { class: "chip" }, s))));
}

function uploader(onDone) {
  const rows = h("div", { class: "uploads", id: "uploads" });
  const input = h("input", { id: "resume-input", type: "file", multiple: true, accept: ".pdf,.docx,.doc,.odt,.rtf,.html,.htm,.txt,.md,.png,.jpg,.jpeg", hidden: true });
  const zone = h("div", { class: "dropzone", id: "dropzone", tabindex: 0, onclick: () => input.click(),
    onkeydown: (e) => (e.key === "Enter" || e.key === " ") && input.click() },
  h("strong", {}, "Drop resumes here"), h("div", { class: "small muted" }, "or click to choose — PDF, Word (DOCX, DOC), ODT, RTF, HTML, text or a scan (PNG, JPEG), up to 10 MB each"));
  const handle = (files) => uploadAll([...files], rows, onDone);
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); handle(e.dataTransfer.files); });
  input.addEventListener("change", () => { handle(input.files); input.value = ""; });
  return h("div", { class: "card" }, h("h2", {}, "Upload resumes"), zone, input, rows);
}

async function uploadAll(files, rows, onDone) {
  const queue = files.map((file) => {
    const bar = h("div", {});
    const note = h("span", { class: "small muted upload-note" }, "waiting");
    const row = h("div", { class: "upload-row" }, h("span", { class: "ellipsis" }, file.name), h("div", { class: "progress" }, bar), note);
    rows.append(row);
    return { file, bar, note, row };
  });
  const worker = async () => {
    while (queue.length) {
      const item = queue.shift();
      try {
        const reply = await uploadResume(item.file, (f) => { item.bar.style.width = `${Math.round(f * 95)}%`; });
        item.bar.style.width = "100%";
        item.row.querySelector(".progress").classList.add("done");
        item.note.textContent = reply.deduplicated ? "already there" : `added ${reply.candidate.name || "(unnamed)"}`;
        item.row.dataset.state = "done";
      } catch (err) {
        item.row.querySelector(".progress").classList.add("failed");
        item.bar.style.width = "100%";
        item.note.textContent = err.message;
        item.row.dataset.state = "failed";
      }
    }
  };
  await Promise.all([worker(), worker()]);
  onDone();
}

// --- analytics ----------------------------------------------------------------------------------
async function report(name, params = "") {
  return api("GET", `/analytics/reports/${name}${params}`);
}

async function analyticsView() {
  const kpis = h("div", { class: "grid kpis", id: "kpis" });
  const funnel = h("div", { class: "chart", id: "chart-funnel" });
  const scores = h("div", { class: "chart", id: "chart-scores" });
  const safety = h("div", { class: "chart", id: "chart-safety" });
  const note = h("div", { class: "small muted" });
  const synced = h("div", { class: "small muted", id: "synced-at" });
  const load = async () => {
    const settle = async (box, fn) => {
      try { await fn(); } catch (err) { box.replaceChildren(h("div", { class: "error-box" }, err.message)); }
    };
    await Promise.all([
      settle(kpis, async () => {
        const summary = await report("summary");
        const r = summary.records[0] || {};
        note.textContent = "";
        synced.replaceChildren(await syncedNote(summary.data_as_of));
        kpis.replaceChildren(...[["Candidates", r.candidates], ["Open jobs", r.open_jobs], ["Applications", r.applications],
          ["Screened", r.screened], ["Hired", r.hired], ["Hire rate", r.hire_rate === null || r.hire_rate === undefined ? "–" : pct(r.hire_rate * 100)],
          ["Avg. AI score", num(r.avg_match_score, 0)]].map(([label, value]) =>
          h("div", { class: "card kpi" }, h("div", { class: "value" }, value ?? 0), h("div", { class: "label" }, label))));
      }),
      settle(funnel, async () => {
        const r = await report("funnel");
        funnel.replaceChildren(barChart(r.records.map((x) => ({ label: x.stage, value: Number(x.applications) || 0 })), { horizontal: true }));
      }),
      settle(scores, async () => {
        const r = await report("hiring_trends", "?days=90");
        scores.replaceChildren(lineChart(r.records.filter((x) => x.avg_match_score !== null)
          .map((x) => ({ label: String(x.day).slice(5, 10), value: Number(x.avg_match_score) })), { max: 100 }));
      }),
      settle(safety, async () => {
        const r = await report("safety_trends", "?weeks=12");
        safety.replaceChildren(barChart(r.records.map((x) => ({ label: String(x.week).slice(5, 10), value: Math.round((Number(x.issue_rate) || 0) * 100) })), { suffix: "%", alt: true }));
      }),
    ]);
  };
  const sync = h("button", { class: "secondary", id: "sync", disabled: !canWrite(), onclick: async () => {
    sync.disabled = true;
    try {
      const op = await api("POST", "/analytics/sync", { mode: "incremental" });
      note.textContent = "Syncing warehouse…";
      feed.watch(op.id, (u) => {
        note.textContent = u.status === STATUS.COMPLETED ? "Warehouse synced." : u.status === STATUS.FAILED ? `Sync failed: ${u.error}` : `Syncing… ${pct(u.progress)}`;
        if (TERMINAL.has(u.status)) { sync.disabled = false; load(); }
      });
    } catch (err) { note.textContent = err.message; sync.disabled = false; }
  } }, "Refresh warehouse");
  load();
  return h("div", {}, h("div", { class: "row spread" }, h("h1", {}, "Analytics"), h("div", { class: "row" }, note, sync)),
    synced, kpis,
    h("div", { class: "grid two" },
      h("div", { class: "card" }, h("h2", {}, "Hiring funnel"), funnel),
      h("div", { class: "card" }, h("h2", {}, "AI match score over time"), scores)),
    h("div", { class: "grid two" },
      h("div", { class: "card" }, h("h2", {}, "Safety issues per week"), safety),
      predictionForm()));
}

// When the warehouse was last synced and when its schedule syncs it next (the page shows warehouse data).
async function syncedNote(asOf) {
  const stamp = (iso) => new Date(iso).toLocaleString();
  const last = asOf ? `Warehouse last synced ${stamp(asOf)}` : "The warehouse has not been synced yet";
  try {
    const rows = (await report("schedules")).records;
    const inc = rows.find((x) => x.name === "incremental");
    if (inc && inc.next_run) return `${last} · next sync ${stamp(inc.next_run)} (every ${inc.interval})`;
    if (inc) return `${last} · scheduled syncs are off`;
  } catch { /* the schedule is extra: the last sync time alone still answers the question */ }
  return last;
}

function predictionForm() {
  const out = h("div", { id: "prediction" });
  const field = (name, label, value, attrs = {}) => h("label", {}, label, h("input", { name, type: "number", step: "any", value, ...attrs }));
  const form = h("form", { id: "predict-form", onsubmit: async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const features = {};
    for (const [k, v] of f.entries()) features[k] = k === "has_safety_issues" ? v === "on" : Number(v);
    if (!f.has("has_safety_issues")) features.has_safety_issues = false;
    try {
      const [hire, days] = await Promise.allSettled([api("POST", "/analytics/predictions/hire", { features }),
        api("POST", "/analytics/predictions/time-to-hire", { features })]);
      if (hire.status === "rejected") throw hire.reason;
      const p = hire.value;
      const top = Object.entries(p.feature_importances || {}).sort((a, b) => b[1] - a[1]).slice(0, 4);
      out.replaceChildren(h("div", { class: p.likely_hire ? "ok-box" : "error-box" },
        h("strong", { id: "hire-probability" }, pct(p.probability * 100)), ` chance of hire — ${p.likely_hire ? "likely" : "unlikely"} (confidence ${pct(p.confidence * 100)}, model ${p.model_version})`),
      days.status === "fulfilled" ? h("p", { class: "small" }, `Expected time to hire: ${num(days.value.days, 0)} days (${num(days.value.low_days, 0)}–${num(days.value.high_days, 0)})`) : null,
      top.length ? h("p", { class: "small muted" }, `Most influential: ${top.map(([k]) => k.replace(/_/g, " ")).join(", ")}`) : null);
    } catch (err) {
      out.replaceChildren(h("div", { class: "error-box" }, err.status === 412 ? `${err.message} — an admin can train the models.` : err.message));
    }
  } },
  h("div", { class: "grid two" }, field("match_score", "Match score", 75, { min: 0, max: 100 }), field("skills_score", "Skills score", 70, { min: 0, max: 100 }),
    field("experience_score", "Experience score", 80, { min: 0, max: 100 }), field("semantic_score", "Semantic score", 65, { min: 0, max: 100 }),
    field("years_experience", "Years experience", 5, { min: 0 }), field("required_experience", "Required years", 3, { min: 0 }),
    field("skills_count", "Skills", 8, { min: 0, step: 1 }), field("missing_skills_count", "Missing skills", 1, { min: 0, step: 1 }),
    field("ai_confidence", "AI confidence (0–1)", 0.8, { min: 0, max: 1 })),
  h("label", { class: "row" }, h("input", { type: "checkbox", name: "has_safety_issues", class: "inline" }), "Has safety issues"),
  h("button", { type: "submit" }, "Predict"));
  return h("div", { class: "card" }, h("h2", {}, "Hire prediction"), form, out);
}

// --- router -------------------------------------------------------------------------------------
const routes = [
  [/^#\/jobs\/([\w-]+)$/, (m) => jobView(m[1]), "jobs"],
  [/^#\/jobs$/, jobsView, "jobs"],
  [/^#\/candidates$/, candidatesView, "candidates"],
  [/^#\/candidates\/([\w-]+)$/, (m) => candidateView(m[1]), "candidates"],
  [/^#\/analytics$/, analyticsView, "analytics"],
  [/^#\/mail$/, mailView, "mail"],
  [/^#\/tasks$/, queueView, "tasks"],
  [/^#\/screenings\/([\w-]+)$/, (m) => screeningView(m[1]), "jobs"],
];

async function route() {
  const view = $("#view");
  if (!state.me) {
    view.replaceChildren(signInView());
    return;
  }
  const hash = location.hash || "#/jobs";
  for (const [pattern, render, nav] of routes) {
    const match = hash.match(pattern);
    if (!match) continue;
    document.querySelectorAll("[data-nav]").forEach((a) => a.classList.toggle("active", a.dataset.nav === nav));
    try {
      view.replaceChildren(await render(match));
    } catch (err) {
      view.replaceChildren(h("div", { class: "card error-box" }, err.message));
    }
    return;
  }
  location.hash = "#/jobs";
}

$("#signout").addEventListener("click", () => signOut());
window.addEventListener("hashchange", route);
(async () => {
  if (state.token) {
    try { await signIn(state.token); } catch { sessionStorage.removeItem("hiremesh.session"); }
  }
  route();
})();
