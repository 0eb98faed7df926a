// The outbox page: every candidate e-mail with its state, attempts and last error; admins resend failed ones.
import { api, h, short, state, toast } from "/static/app.js";

const STATES = ["", "queued", "sent", "failed", "skipped"];
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "—");
const isAdmin = () => state.me && state.me.role === "admin";

export async function mailView() {
  const filter = h("select", { id: "mail-state" }, STATES.map((s) => h("option", { value: s }, s || "all")));
  const who = h("input", { id: "mail-candidate", placeholder: "candidate id (optional)" });
  const list = h("div", { id: "mail-list" }, h("p", { class: "muted" }, "Loading…"));
  const more = h("button", { class: "secondary", id: "mail-more", hidden: true }, "More");
  let token = "";
  let timer = null;
  const rows = [];

  const load = async (append = false) => {
    clearTimeout(timer);
    const params = new URLSearchParams({ page_size: "50" });
    if (filter.value) params.set("status", filter.value);
    if (who.value.trim()) params.set("candidate_id", who.value.trim());
    if (append && token) params.set("page_token", token);
    try {
      const data = await api("GET", `/notifications?${params}`);
      if (!append) rows.length = 0;
      rows.push(...data.notifications);
      token = data.next_page_token;
      more.hidden = !token;
      list.replaceChildren(table(rows, data.total_size, () => load()));
      // Messages on their way change state by themselves: look again soon.
      if (rows.some((n) => short(n.state) === "queued")) timer = setTimeout(() => document.body.contains(list) && load(), 2000);
    } catch (err) {
      list.replaceChildren(h("div", { class: "error-box" }, err.message));
    }
  };
  filter.addEventListener("change", () => load());
  who.addEventListener("change", () => load());
  more.addEventListener("click", () => load(true));
  load();
  return h("div", {}, h("div", { class: "row spread" }, h("h1", {}, "Candidate e-mails"),
    h("div", { class: "row" }, h("label", {}, "Status", filter), h("label", {}, "Candidate", who),
      h("button", { class: "secondary", id: "mail-refresh", onclick: () => load() }, "Refresh"))),
  h("p", { class: "small muted" }, "One e-mail per application status change, sent by the task queue with retries. ",
    "Skipped ones were recorded but not sent (no address, opted out, or opened by a screening)."),
  h("div", { class: "card" }, list, more));
}

function table(rows, total, reload) {
  if (!rows.length) return h("p", { class: "empty" }, "No e-mails yet — they are written when an application is created or its status changes.");
  return h("div", {}, h("p", { class: "small muted" }, `${total} e-mail${total === 1 ? "" : "s"}`),
    h("div", { class: "table-wrap" }, h("table", { id: "mail-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Created"), h("th", {}, "To"), h("th", { class: "hide-sm" }, "Subject"),
        h("th", {}, "Application"), h("th", {}, "State"), h("th", {}, "Attempts"), h("th", {}, "Error"), h("th", {}, ""))),
      h("tbody", {}, rows.map((n) => row(n, reload))))));
}

function row(n, reload) {
  const st = short(n.state);
  const resend = st === "failed" && isAdmin()
    ? h("button", { class: "secondary resend", onclick: async (e) => {
      e.target.disabled = true;
      try {
        await api("POST", `/notifications/${n.id}/resend`);
        toast("Queued again");
        reload();
      } catch (err) {
        toast(err.message, "error");
        e.target.disabled = false;
      }
    } }, "Resend") : null;
  return h("tr", { class: "mail-row", dataset: { id: n.id, state: st } },
    h("td", { class: "small" }, when(n.created_at)),
    h("td", {}, n.recipient || h("span", { class: "muted" }, "(none)")),
    h("td", { class: "hide-sm small" }, n.subject),
    h("td", {}, h("span", { class: "pill" }, short(n.application_status))),
    h("td", {}, h("span", { class: `pill state-${st}` }, st)),
    h("td", {}, String(n.attempts ?? 0)),
    h("td", { class: "small error-text" }, n.error || ""),
    h("td", {}, resend));
}
