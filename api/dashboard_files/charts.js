// Small SVG/HTML charts for the dashboard: no library, nothing from a CDN.
// One function scope: only window.charts is global.
(function () {
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const MAP_LABELS = 12;
// an Arabic name inside an English label, isolated (FSI … PDI) so that the count after it stays put
const ISOLATE = text => `\u2068${text}\u2069`;

function svgEl(name, attrs, text) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

function htmlEl(name, attrs, text) {
  const el = document.createElement(name);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

// What a chart draws, as a table a keyboard and a screen reader reach (folded under the chart).
function asTable(caption, headers, rows) {
  const details = htmlEl("details", {class: "as-table"});
  details.append(htmlEl("summary", {}, `${caption} as a table`));
  const table = htmlEl("table", {});
  const head = htmlEl("tr", {});
  for (const h of headers) head.append(htmlEl("th", {scope: "col"}, h));
  table.append(htmlEl("thead", {}), htmlEl("tbody", {}));
  table.tHead.append(head);
  for (const row of rows) {
    const tr = htmlEl("tr", {});
    for (const cell of row) tr.append(htmlEl("td", {dir: "auto"}, String(cell)));
    table.tBodies[0].append(tr);
  }
  details.append(table);
  return details;
}

// Zero-filled timeline: one bar per bucket, the ranged (not day-precise) part lighter.
function drawTimeline(target, buckets) {
  target.replaceChildren();
  if (!buckets.length) { target.append(htmlEl("p", {class: "note"}, "No dated events.")); return; }
  const width = 600, height = 180, pad = 28;
  const max = Math.max(1, ...buckets.map(b => b.count));
  const step = Math.min(80, (width - pad) / buckets.length);  // a lone month is not a wall
  const svg = svgEl("svg", {viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "events per bucket"});
  svg.append(svgEl("text", {x: 0, y: 12, class: "axis"}, String(max)));
  buckets.forEach((b, i) => {
    const h = (height - 2 * pad) * b.count / max;
    const x = pad + i * step, y = height - pad - h;
    const bar = svgEl("rect", {x, y, width: Math.max(1, step - 2), height: h, class: "bar", "data-count": b.count});
    bar.append(svgEl("title", {}, `${b.start} – ${b.end}: ${b.count} (${b.ranged} ranged)`));
    svg.append(bar);
    if (b.ranged) {
      const rh = (height - 2 * pad) * b.ranged / max;
      svg.append(svgEl("rect", {x, y: height - pad - rh, width: Math.max(1, step - 2), height: rh, class: "bar ranged"}));
    }
    if (buckets.length <= 24 || i % Math.ceil(buckets.length / 12) === 0) {
      svg.append(svgEl("text", {x: x + step / 2, y: height - 8, class: "axis", "text-anchor": "middle"}, b.start.slice(0, 7)));
    }
  });
  target.append(svg, asTable("The timeline", ["from", "to", "events", "of which ranged"],
    buckets.map(b => [b.start, b.end, b.count, b.ranged])));
}

// Facet bars as HTML (labels wrap and Arabic stays readable); a click filters by the value.
function drawFacets(target, facets, onPick, counts) {
  target.replaceChildren();
  for (const [name, values] of Object.entries(facets)) {
    const box = htmlEl("div", {class: "facet", "data-facet": name});
    // how many values there are when not all are drawn (meta.facets: values, truncated)
    const all = counts && counts[name] && counts[name].truncated ? counts[name].values : null;
    const heading = htmlEl("h3", {}, name.replace("_", " "));
    if (all) heading.append(htmlEl("small", {}, ` (the ${Math.min(8, values.length)} most frequent of ${all})`));
    box.append(heading);
    const max = Math.max(1, ...values.map(v => v.count));
    for (const v of values.slice(0, 8)) {
      const row = htmlEl("button", {type: "button", class: "facet-row", title: `filter by ${v.value}`});
      // a participant or place by its two names (the id in the button's title); a code beside its label
      const text = v.label_ar ? `${v.label} · ${ISOLATE(v.label_ar)}` : v.label === v.value ? v.value : `${v.label} (${v.value})`;
      row.append(htmlEl("span", {class: "label", dir: "auto"}, text));
      const bar = htmlEl("span", {class: "fbar"});
      bar.style.width = `${Math.round(100 * v.count / max)}%`;  // CSSOM: allowed by the page's CSP, unlike style=""
      row.append(bar, htmlEl("span", {class: "count", "data-count": v.count}, String(v.count)));
      row.addEventListener("click", () => onPick(name, v.value));
      box.append(row);
    }
    target.append(box);
  }
}

// Actor network: nodes on a circle (sized by events), edges weighted by shared events.
function drawNetwork(target, graph) {
  target.replaceChildren();
  const nodes = graph.nodes;
  if (!nodes.length) { target.append(htmlEl("p", {class: "note"}, "No actors.")); return; }
  const width = 560, height = 420, c = height / 2, r = height / 2 - 40;  // room at the sides for the names
  const at = {};
  nodes.forEach((n, i) => {
    const a = 2 * Math.PI * i / nodes.length - Math.PI / 2;
    at[n.id] = [width / 2 + r * Math.cos(a), c + r * Math.sin(a), a];
  });
  const svg = svgEl("svg", {viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "actor network"});
  const maxW = Math.max(1, ...graph.edges.map(e => e.weight));
  for (const e of graph.edges) {
    if (!at[e.source] || !at[e.target]) continue;
    const line = svgEl("line", {x1: at[e.source][0], y1: at[e.source][1], x2: at[e.target][0], y2: at[e.target][1],
      class: "edge", "stroke-width": 0.5 + 3 * e.weight / maxW});
    line.append(svgEl("title", {}, `${e.source} – ${e.target}: ${e.weight}`));
    svg.append(line);
  }
  const maxE = Math.max(1, ...nodes.map(n => n.events));
  for (const n of nodes) {
    const [x, y, a] = at[n.id];
    const dot = svgEl("circle", {cx: x, cy: y, r: 3 + 7 * n.events / maxE, class: `node ${n.kind}`, "data-id": n.id});
    dot.append(svgEl("title", {}, `${n.name_en} · ${n.name_ar}: ${n.events} events`));
    const right = Math.cos(a) >= 0;
    svg.append(dot, svgEl("text", {x: x + (right ? 9 : -9), y: y + 4, class: "node-label",
      "text-anchor": right ? "start" : "end"}, n.name_en));
  }
  const name = {};
  for (const n of nodes) name[n.id] = `${n.name_en} · ${n.name_ar}`;
  target.append(svg, asTable("The network", ["actor", "actor", "shared events"],
    graph.edges.filter(e => name[e.source] && name[e.target]).map(e => [name[e.source], name[e.target], e.weight])));
}

// Map: a plain lon/lat plot of the events' places, framed around them (no tiles, no network).
function drawMap(target, events) {
  target.replaceChildren();
  const places = {};
  for (const e of events) {
    const p = e.place;
    if (!p || p.lat == null || p.lon == null) continue;
    (places[p.id] = places[p.id] || {place: p, count: 0}).count += 1;
  }
  const list = Object.values(places);
  if (!list.length) { target.append(htmlEl("p", {class: "note"}, "No event with a place.")); return; }
  const lons = list.map(p => p.place.lon), lats = list.map(p => p.place.lat);
  const minLon = Math.min(...lons) - 6, maxLon = Math.max(...lons) + 6;
  const minLat = Math.min(...lats) - 5, maxLat = Math.max(...lats) + 5;
  const width = 600, height = 300;
  const x = lon => width * (lon - minLon) / (maxLon - minLon);
  const y = lat => height * (maxLat - lat) / (maxLat - minLat);
  const svg = svgEl("svg", {viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "map of events"});
  svg.append(svgEl("rect", {x: 0, y: 0, width, height, class: "sea"}));
  for (let lon = Math.ceil(minLon / 10) * 10; lon < maxLon; lon += 10) {
    svg.append(svgEl("line", {x1: x(lon), x2: x(lon), y1: 0, y2: height, class: "grid"}),
      svgEl("text", {x: x(lon) + 2, y: height - 4, class: "axis"}, `${Math.abs(lon)}°${lon < 0 ? "W" : "E"}`));
  }
  for (let lat = Math.ceil(minLat / 10) * 10; lat < maxLat; lat += 10) {
    svg.append(svgEl("line", {x1: 0, x2: width, y1: y(lat), y2: y(lat), class: "grid"}),
      svgEl("text", {x: 2, y: y(lat) - 2, class: "axis"}, `${Math.abs(lat)}°${lat < 0 ? "S" : "N"}`));
  }
  // the largest places named (dozens of names over each other are none legible); every dot has its title
  const named = new Set(list.slice().sort((a, b) => b.count - a.count).slice(0, MAP_LABELS).map(p => p.place.id));
  const biggest = Math.max(...list.map(p => p.count));
  for (const {place, count} of list) {
    const dot = svgEl("circle", {cx: x(place.lon), cy: y(place.lat), r: 3 + 9 * Math.sqrt(count / biggest), class: "place",
      "data-id": place.id, "data-count": count});
    dot.append(svgEl("title", {}, `${place.name_en} · ${ISOLATE(place.name_ar)}: ${count}`));
    svg.append(dot);
    if (!named.has(place.id)) continue;
    const right = x(place.lon) < width * 0.7;  // near the right edge the name goes to the left of the dot
    svg.append(svgEl("text", {x: x(place.lon) + (right ? 12 : -12), y: y(place.lat) + 4, class: "place-label",
      "text-anchor": right ? "start" : "end"}, `${place.name_en} (${count}) · ${ISOLATE(place.name_ar)}`));
  }
  target.append(svg, asTable("The map", ["place", "latitude", "longitude", "events"],
    list.slice().sort((a, b) => b.count - a.count)
      .map(({place, count}) => [`${place.name_en} · ${place.name_ar}`, place.lat, place.lon, count])));
}

window.charts = {drawTimeline, drawFacets, drawNetwork, drawMap, htmlEl};
})();
