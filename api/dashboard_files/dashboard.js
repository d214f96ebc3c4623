// The dashboard: filters kept in the URL, every number read from the public JSON API.
(function () {
"use strict";

const {drawTimeline, drawFacets, drawNetwork, drawMap, htmlEl} = window.charts;
const FILTERS = ["from", "to", "participant", "country", "type", "status", "q", "include_undated"];
// list filters: repeated (status=a&status=b) and comma forms are one list, as the API reads them
const LISTS = new Set(["participant", "country", "type", "status"]);
const MAX_MONTHS = 2000;  // the API's most timeline buckets: a longer range is drawn by year
const form = document.getElementById("filters");
const status = document.getElementById("status");
let generation = 0;  // the newest load(): an older one's answers are dropped when they arrive
let listed = [];     // the events shown so far (the first page and those "Show more" added)
let nextCursor = null, listedFilters = {};  // where the list goes on, for the filters it was read with
let evidenceTicket = 0;  // the newest evidence asked for: an older answer is dropped
let choicesProblem = "";  // said after every status while the form's choices are missing

function filtersFromUrl() {
  const params = new URLSearchParams(location.search);
  const filters = {};
  for (const name of FILTERS) {
    const values = params.getAll(name).map(v => v.trim()).filter(Boolean);
    if (!values.length) continue;
    filters[name] = LISTS.has(name) ? values.flatMap(v => v.split(",")).map(v => v.trim()).filter(Boolean).join(",")
      : name === "q" ? values.join(" ") : values[values.length - 1];
  }
  return filters;
}

function rowsFromUrl() {
  const rows = parseInt(new URLSearchParams(location.search).get("rows"), 10);
  return rows >= 1 && rows <= 500 ? rows : 100;
}

function query(filters, extra) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) params.append(k, v);
  for (const [k, v] of Object.entries(extra || {})) {
    for (const one of [].concat(v)) params.append(k, one);
  }
  return params.toString();
}

const pause = seconds => new Promise(resolve => setTimeout(resolve, seconds * 1000));

// One GET of the API; its problem's detail as the error. A 503 that says when to retry is retried
// once (the API's answer to a request over its time budget, or a database a moment away).
async function api(path, filters, extra, retried) {
  const q = query(filters || {}, extra);
  const response = await fetch(`${path}${q ? "?" + q : ""}`, {headers: {Accept: "application/json"}});
  const text = await response.text();
  let body = null;
  try { body = JSON.parse(text); } catch (_) { /* not JSON: a proxy's page, say */ }
  const wait = Number(response.headers.get("Retry-After"));
  // (not a request over its time budget: sent again, it would cost as much and wait as long)
  const overBudget = body && String(body.type || "").endsWith("/time-budget");
  if (response.status === 503 && !retried && !overBudget && wait > 0 && wait <= 10) {
    await pause(wait);
    return api(path, filters, extra, true);
  }
  if (!response.ok || body === null) {
    throw new Error((body && body.detail) || `${response.status} ${response.statusText || "error"} from ${path}`);
  }
  return body;
}

// Put the URL's filters in the form (a value no option offers gets one, so that Apply keeps it);
// choosing filters writes them back to the URL.
function fillForm(filters) {
  for (const name of FILTERS) {
    const field = form.elements[name];
    const value = filters[name] || "";
    if (field.type === "checkbox") { field.checked = value === "true"; continue; }
    if (field.tagName === "SELECT" && value && ![...field.options].some(o => o.value === value)) {
      field.append(htmlEl("option", {value}, value.split(",").join(", ")));
    }
    field.value = value;
  }
}

function applyFilters(filters) {
  const rows = new URLSearchParams(location.search).get("rows");
  const q = query(filters, rows ? {rows} : {});
  history.pushState(null, "", location.pathname + (q ? "?" + q : ""));
  load();
}

form.addEventListener("submit", event => {
  event.preventDefault();
  const filters = {};
  for (const name of FILTERS) {
    const field = form.elements[name];
    const value = field.type === "checkbox" ? (field.checked ? "true" : "") : field.value.trim();
    if (value) filters[name] = value;
  }
  applyFilters(filters);
});
document.getElementById("reset").addEventListener("click", () => applyFilters({}));
document.getElementById("more").addEventListener("click", showMore);
window.addEventListener("popstate", load);

// A facet bar adds its value to the filters (the facet's own filter name, as /v1/stats/facets says).
const FACET_FILTER = {cameo_root: "type", status: "status", country: "country", participant: "participant"};
function pickFacet(facet, value) {
  applyFilters({...filtersFromUrl(), [FACET_FILTER[facet]]: value});
}

function addOptions(select, items) {
  const current = select.value;
  select.replaceChildren(htmlEl("option", {value: ""}, "any"));
  for (const {value, label} of items) select.append(htmlEl("option", {value}, label));
  select.value = current;
}

// The form's choices: every participant (page after page), the countries and CAMEO roots in use.
async function loadChoices() {
  const facets = await api("/v1/stats/facets", {}, {facet: ["country", "cameo_root"], limit: 500});
  addOptions(form.elements.country, facets.data.country.map(v => ({value: v.value,
    label: v.label === v.value ? v.value : `${v.label} (${v.value})`})));
  addOptions(form.elements.type, facets.data.cameo_root.map(v => ({value: v.value, label: `${v.value} ${v.label}`})));
  const people = [];
  let cursor = null;
  do {
    const page = await api("/v1/participants", {}, {limit: 500, fields: "name_en,name_ar", ...(cursor ? {cursor} : {})});
    people.push(...page.data);
    cursor = page.meta.next_cursor;
  } while (cursor && people.length < 20000);
  addOptions(form.elements.participant, people.map(p => ({value: p.id, label: `${p.name_en} · ${p.name_ar}`})));
}

function dateText(date) {
  if (!date.start && !date.end) return "undated";
  if (date.start === date.end) return date.start;
  return `${date.start || "…"} – ${date.end || "…"}`;
}

function statementCell(statements) {
  const cell = htmlEl("td", {class: "statements"});
  for (const s of statements) {
    const pair = htmlEl("div", {class: "pair"});
    pair.append(htmlEl("p", {class: "ar", lang: "ar", dir: "rtl"}, s.text_ar),
      htmlEl("p", {class: "en", lang: "en", dir: "ltr"}, s.text_en));
    cell.append(pair);
  }
  return cell;
}

function eventRow(e) {
  const row = htmlEl("tr", {"data-id": e.id, tabindex: "0"});
  const place = e.place ? `${e.place.name_en} · ${e.place.name_ar}` : "";
  const title = htmlEl("td", {});
  title.append(htmlEl("p", {class: "en", lang: "en", dir: "ltr"}, e.title_en));
  // the curator's Arabic title beside the English, where one is written
  if (e.title_ar) title.append(htmlEl("p", {class: "ar", lang: "ar", dir: "rtl"}, e.title_ar));
  const date = htmlEl("td", {class: "date", title: `precision: ${e.date.precision}`}, dateText(e.date));
  row.append(date, title, htmlEl("td", {}, e.status),
    htmlEl("td", {title: e.cameo.root_label}, `${e.cameo.code} ${e.cameo.label}`),
    htmlEl("td", {dir: "auto"}, place), statementCell(e.statements || []));
  row.addEventListener("click", () => showEvidence(e, true));
  row.addEventListener("keydown", k => { if (k.key === "Enter") showEvidence(e, true); });
  return row;
}

// The events listed so far, what the list holds of the total, and what follows from them.
function drawListed(total) {
  const body = document.querySelector("#events tbody");
  body.replaceChildren(...listed.map(eventRow));
  const count = `${listed.length.toLocaleString("en")}`;
  document.getElementById("listed").textContent = listed.length < total
    ? `(1–${count} of ${total.toLocaleString("en")}, newest first; click one for its evidence in the source)`
    : "(click one for its evidence in the source)";
  const more = document.getElementById("more");
  more.hidden = !nextCursor;
  more.textContent = `Show ${rowsFromUrl()} more`;
  document.getElementById("statements-count").textContent = listed.reduce((n, e) => n + (e.statements || []).length, 0);
  document.getElementById("map-note").textContent = listed.length < total
    ? `(the places of the ${count} events listed, of ${total.toLocaleString("en")})` : "(events with a place)";
  drawMap(document.getElementById("map"), listed);
}

const EVENT_PAGE = () => ({limit: rowsFromUrl(), sort: "-date", include: ["statements", "place"]});

async function showMore() {
  const mine = generation, more = document.getElementById("more");
  if (!nextCursor) return;
  more.disabled = true;
  try {
    const page = await api("/v1/events", listedFilters, {...EVENT_PAGE(), cursor: nextCursor});
    if (mine !== generation) return;
    listed = listed.concat(page.data);
    nextCursor = page.meta.next_cursor;
    drawListed(page.meta.total);
  } catch (error) {
    if (mine === generation) showStatus(`Error: ${error.message}`, true);
  } finally {
    more.disabled = false;
  }
}

// The record's spans marked in its source text (the API escapes the text and adds the <mark>s).
async function showEvidence(event, chosen) {
  const ticket = ++evidenceTicket;
  const box = document.getElementById("evidence");
  box.replaceChildren(htmlEl("p", {class: "note"}, `Loading the evidence of ${event.title_en}…`));
  if (chosen) box.scrollIntoView({block: "nearest"});  // a click far down a long list: show where it went
  try {
    const source = await api(`/v1/sources/${encodeURIComponent(event.source)}`, {}, {highlight: event.id});
    if (ticket !== evidenceTicket) return;  // another event was chosen meanwhile
    box.replaceChildren(htmlEl("h3", {}, `${event.title_en} — ${source.data.title}`));
    const text = htmlEl("div", {class: "source-text", lang: "ar", dir: "rtl"});
    text.innerHTML = source.data.text_marked;
    box.append(text);
    const first = text.querySelector("mark");
    // scroll the text box only (scrollIntoView would scroll the page away from the filters)
    if (first) text.scrollTop = Math.max(0, first.offsetTop - text.offsetTop - 40);
  } catch (error) {
    if (ticket === evidenceTicket) {
      box.replaceChildren(htmlEl("p", {class: "error"}, `The evidence could not be loaded: ${error.message}`));
    }
  }
}

function showStatus(text, isError) {
  status.textContent = text;
  status.classList.toggle("error", Boolean(isError));
}

// A panel's answer drawn, or its own error in its place (one failing request blanks nothing else).
function panel(id, outcome, draw) {
  const target = document.getElementById(id);
  if (outcome.status === "fulfilled") draw(target, outcome.value);
  else target.replaceChildren(htmlEl("p", {class: "error"}, `Could not load: ${outcome.reason.message}`));
}

function timelineInterval(filters) {
  if (!filters.from) return "month";
  const from = new Date(filters.from), to = filters.to ? new Date(filters.to) : new Date();
  const months = (to.getFullYear() - from.getFullYear()) * 12 + to.getMonth() - from.getMonth() + 1;
  return months > MAX_MONTHS ? "year" : "month";
}

function exportLinks(filters) {
  for (const link of document.querySelectorAll("#exports a[data-format]")) {
    link.href = `/v1/events?${query(filters, {sort: "-date", format: link.dataset.format})}`;
  }
}

async function load() {
  const mine = ++generation;
  const filters = filtersFromUrl();
  fillForm(filters);
  exportLinks(filters);
  showStatus("Loading…");
  document.body.dataset.ready = "false";
  document.querySelector("main").classList.add("stale");
  nextCursor = null;  // (Show more reads on only once this load's first page is in)
  evidenceTicket++;   // the evidence of the list before is no longer wanted
  document.getElementById("more").hidden = true;
  const interval = timelineInterval(filters);
  document.getElementById("interval").textContent = interval;
  const [events, timeline, facets, network] = await Promise.allSettled([
    api("/v1/events", filters, EVENT_PAGE()),
    // a range longer than the guess (its end is the data's, not today) is asked again by year
    api("/v1/stats/timeline", filters, {interval}).catch(error => {
      if (interval === "year" || !/buckets/.test(error.message)) throw error;
      document.getElementById("interval").textContent = "year";
      return api("/v1/stats/timeline", filters, {interval: "year"});
    }),
    api("/v1/stats/facets", filters, {facet: ["cameo_root", "status", "country", "participant"], limit: 8}),
    api("/v1/network", filters, {limit: 20}),
  ]);
  if (mine !== generation) return;  // a newer choice was made meanwhile: its answers are the ones to show
  panel("timeline", timeline, (target, t) => drawTimeline(target, t.data));
  panel("facets", facets, (target, f) => drawFacets(target, f.data, pickFacet, f.meta.facets));
  panel("network", network, (target, n) => drawNetwork(target, n.data));
  document.getElementById("network-note").textContent = network.status === "fulfilled" && network.value.meta.truncated
    ? `(the ${network.value.meta.nodes} most connected of ${network.value.meta.actors_total} actors)` : "";
  const dated = timeline.status === "fulfilled" ? timeline.value.meta : {total: "–", undated: "–"};
  document.getElementById("dated").textContent = dated.total;
  document.getElementById("undated").textContent = dated.undated;
  document.getElementById("range-note").hidden = !(filters.from || filters.to);
  const shown = Object.entries(filters).map(([k, v]) => `${k}=${v}`).join(", ");
  if (events.status === "fulfilled") {
    const total = events.value.meta.total;
    listed = events.value.data;
    nextCursor = events.value.meta.next_cursor;
    listedFilters = filters;
    document.getElementById("total").textContent = total;
    drawListed(total);
    const failed = [timeline, facets, network].filter(o => o.status === "rejected").length;
    const ignored = events.value.meta.ignored_words || [];
    showStatus(`${total.toLocaleString("en")} event${total === 1 ? "" : "s"}${shown ? " matching " + shown : ""}.` +
      (ignored.length ? ` Left out of the search as function words: ${ignored.join(", ")} (quote a phrase to keep them).` : "") +
      (failed ? ` ${failed} panel(s) could not be loaded: see them below.` : "") + choicesProblem,
      failed > 0 || Boolean(choicesProblem));
    if (listed.length) await showEvidence(listed[0], false);
    else document.getElementById("evidence").replaceChildren(htmlEl("p", {class: "note"}, "No event to show."));
    if (mine !== generation) return;
  } else {
    listed = [];
    nextCursor = null;
    document.getElementById("total").textContent = "–";
    drawListed(0);
    document.getElementById("evidence").replaceChildren(htmlEl("p", {class: "note"}, "Choose an event."));
    showStatus(`Error: ${events.reason.message}`, true);
  }
  document.querySelector("main").classList.remove("stale");
  document.body.dataset.ready = "true";
}

loadChoices().catch(error => { choicesProblem = ` The filter choices could not be loaded (${error.message}); filters in the URL still apply.`; })
  .then(load);
})();
