// The dashboard: filters kept in the URL, every number read from the public JSON API.
(function () {
"use strict";

const {drawTimeline, drawFacets, drawNetwork, drawMap, htmlEl} = window.charts;
const FILTERS = ["from", "to", "participant", "country", "type", "status", "q"];
const form = document.getElementById("filters");

function filtersFromUrl() {
  const params = new URLSearchParams(location.search);
  const filters = {};
  for (const name of FILTERS) if (params.get(name)) filters[name] = params.get(name);
  return filters;
}

function query(filters, extra) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) params.append(k, v);
  for (const [k, v] of Object.entries(extra || {})) {
    for (const one of [].concat(v)) params.append(k, one);
  }
  return params.toString();
}

async function api(path, filters, extra) {
  const q = query(filters || {}, extra);
  const response = await fetch(`${path}${q ? "?" + q : ""}`, {headers: {Accept: "application/json"}});
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || `${response.status} from ${path}`);
  return body;
}

// Put the URL's filters in the form; choosing filters writes them back to the URL.
function fillForm(filters) {
  for (const name of FILTERS) form.elements[name].value = filters[name] || "";
}

function applyFilters(filters) {
  const q = query(filters);
  history.pushState(null, "", location.pathname + (q ? "?" + q : ""));
  load();
}

form.addEventListener("submit", event => {
  event.preventDefault();
  const filters = {};
  for (const name of FILTERS) {
    const value = form.elements[name].value.trim();
    if (value) filters[name] = value;
  }
  applyFilters(filters);
});
document.getElementById("reset").addEventListener("click", () => applyFilters({}));
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

async function loadChoices() {
  const [people, facets] = await Promise.all([
    api("/v1/participants", {}, {limit: 500, fields: "name_en,name_ar"}),
    api("/v1/stats/facets", {}, {facet: ["country", "cameo_root"], limit: 100}),
  ]);
  addOptions(form.elements.participant, people.data.map(p => ({value: p.id, label: `${p.name_en} · ${p.name_ar}`})));
  addOptions(form.elements.country, facets.data.country.map(v => ({value: v.value,
    label: v.label === v.value ? v.value : `${v.label} (${v.value})`})));
  addOptions(form.elements.type, facets.data.cameo_root.map(v => ({value: v.value, label: `${v.value} ${v.label}`})));
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

function drawTable(events) {
  const body = document.querySelector("#events tbody");
  body.replaceChildren();
  for (const e of events) {
    const row = htmlEl("tr", {"data-id": e.id, tabindex: "0"});
    const place = e.place ? `${e.place.name_en} · ${e.place.name_ar}` : "";
    const title = htmlEl("td", {});
    title.append(htmlEl("p", {class: "en", lang: "en", dir: "ltr"}, e.title_en));
    // the curator's Arabic title beside the English, where one is written
    if (e.title_ar) title.append(htmlEl("p", {class: "ar", lang: "ar", dir: "rtl"}, e.title_ar));
    row.append(htmlEl("td", {class: "date"}, dateText(e.date)), title,
      htmlEl("td", {}, e.status), htmlEl("td", {title: e.cameo.label}, `${e.cameo.code} ${e.cameo.root_label}`),
      htmlEl("td", {dir: "auto"}, place), statementCell(e.statements || []));
    row.addEventListener("click", () => showEvidence(e));
    row.addEventListener("keydown", k => { if (k.key === "Enter") showEvidence(e); });
    body.append(row);
  }
}

// The record's spans marked in its source text (the API escapes the text and adds the <mark>s).
async function showEvidence(event) {
  const box = document.getElementById("evidence");
  const source = await api(`/v1/sources/${encodeURIComponent(event.source)}`, {}, {highlight: event.id});
  box.replaceChildren(htmlEl("h3", {}, `${event.title_en} — ${source.data.title}`));
  const text = htmlEl("div", {class: "source-text", lang: "ar", dir: "rtl"});
  text.innerHTML = source.data.text_marked;
  box.append(text);
  const first = text.querySelector("mark");
  // scroll the text box only (scrollIntoView would scroll the page away from the filters)
  if (first) text.scrollTop = Math.max(0, first.offsetTop - text.offsetTop - 40);
}

async function load() {
  const filters = filtersFromUrl();
  fillForm(filters);
  const status = document.getElementById("status");
  status.textContent = "Loading…";
  document.body.dataset.ready = "false";
  try {
    const [events, timeline, facets, network] = await Promise.all([
      api("/v1/events", filters, {limit: 500, sort: "date", include: ["statements", "place"]}),
      api("/v1/stats/timeline", filters, {interval: "month"}),
      api("/v1/stats/facets", filters, {facet: ["cameo_root", "status", "country", "participant"], limit: 8}),
      api("/v1/network", filters, {limit: 20}),
    ]);
    document.getElementById("total").textContent = events.meta.total;
    document.getElementById("dated").textContent = timeline.meta.total;
    document.getElementById("undated").textContent = timeline.meta.undated;
    const statements = events.data.reduce((n, e) => n + (e.statements || []).length, 0);
    document.getElementById("statements-count").textContent = statements;
    drawTimeline(document.getElementById("timeline"), timeline.data);
    drawFacets(document.getElementById("facets"), facets.data, pickFacet);
    drawNetwork(document.getElementById("network"), network.data);
    drawMap(document.getElementById("map"), events.data);
    drawTable(events.data);
    const shown = Object.entries(filters).map(([k, v]) => `${k}=${v}`).join(", ");
    status.textContent = `${events.meta.total} events${shown ? " matching " + shown : ""}.`;
    if (events.data.length) await showEvidence(events.data[0]);
  } catch (error) {
    status.textContent = `Error: ${error.message}`;
    status.classList.add("error");
  }
  document.body.dataset.ready = "true";
}

loadChoices().catch(() => {}).then(load);
})();
