// The search page: builds /api/search requests from the form and shows the hits.
// Every value from the collection reaches the page through textContent (never as markup), so
// a caption holding markup shows as text; control characters are made visible.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  key: sessionStorage.getItem("mmingest-api-key") || "",
  image: null, // data: URL of the query image
  like: null, // {id, caption} for "more like this"
  limits: { max_upload_bytes: 8 * 1024 * 1024, max_k: 100 },
  urls: [], // blob: URLs of the shown pictures, released on the next search
  running: 0,
};

function clean(value) {
  return String(value ?? "").replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, "\ufffd");
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = clean(text);
  return node;
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (state.key) headers["X-API-Key"] = state.key;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      message = (await response.json()).error.message;
    } catch (_) { /* not JSON */ }
    if (response.status === 401) $("key-form").hidden = false;
    throw new Error(message);
  }
  return response;
}

function setStatus(text, isError = false) {
  const status = $("status");
  status.textContent = clean(text);
  status.classList.toggle("error", isError);
}

async function loadInfo() {
  try {
    const info = await (await api("/api/info")).json();
    $("collection").textContent = clean(info.collection + (info.tenant ? ` / ${info.tenant}` : ""));
    $("points").textContent = `${info.points.toLocaleString()} points`;
    state.limits = info.limits;
    $("k").max = info.limits.max_k;
    fillSelect($("mode"), info.modes);
    fillSelect($("fusion"), info.fusions);
    for (const name of info.product_fields) {
      const option = element("option", "", name);
      option.value = `fields.${name}`;
      $("field").append(option);
    }
    setStatus("Type a query, drop an image, or both.");
  } catch (error) {
    setStatus(error.message, true);
  }
}

function fillSelect(select, values) {
  select.replaceChildren(...values.map((value) => {
    const option = element("option", "", value);
    option.value = value;
    return option;
  }));
}

function checked(name) {
  return [...document.querySelectorAll(`input[name=${name}]:checked`)].map((box) => box.value);
}

function buildRequest() {
  const body = {
    k: Math.max(1, Number($("k").value) || 12),
    mode: $("mode").value || "hybrid",
    fusion: $("fusion").value || "rrf",
    vectors: checked("vector"),
    weights: {},
    where: [],
  };
  const text = $("q").value.trim();
  if (text) body.text = text;
  if (state.image) body.image = state.image;
  if (state.like) body.like = state.like.id;
  for (const input of document.querySelectorAll(".weight")) {
    const value = Number(input.value);
    if (input.value !== "" && value !== 1) body.weights[input.dataset.channel] = value;
  }
  const kinds = checked("kind");
  if (kinds.length) body.where.push(`kind=${kinds.join(",")}`);
  if ($("page-from").value) body.where.push(`page>=${Number($("page-from").value)}`);
  if ($("page-to").value) body.where.push(`page<=${Number($("page-to").value)}`);
  const field = $("field").value;
  const value = $("field-value").value.trim();
  if (field && value) body.where.push(`${field}${$("op").value}${value}`);
  const words = $("caption-words").value.trim();
  if (words) body.where.push(`caption~${words}`);
  return body;
}

async function search() {
  const body = buildRequest();
  if (!body.text && !body.image && !body.like) {
    setStatus("Type a query, drop an image, or pick 'More like this' on a result.", true);
    return;
  }
  const run = ++state.running;
  setStatus("Searching...");
  try {
    const response = await api("/api/search", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const result = await response.json();
    if (run !== state.running) return; // a newer search has started
    show(result);
  } catch (error) {
    if (run === state.running) setStatus(error.message, true);
  }
}

function show(result) {
  for (const url of state.urls) URL.revokeObjectURL(url);
  state.urls = [];
  const grid = $("results");
  grid.replaceChildren(...result.hits.map(card));
  const count = result.hits.length;
  document.body.dataset.searches = String(Number(document.body.dataset.searches || 0) + 1);
  setStatus(count
    ? `${count} result${count === 1 ? "" : "s"} in ${Math.round(result.took_ms)} ms`
    : "No results: loosen the filters or try another query.");
}

function kindLabel(hit) {
  if (hit.kind === "pdf_page") return `PDF p. ${hit.page ?? "?"}`;
  return hit.kind || "point";
}

function shortSource(uri) {
  if (!uri) return "";
  const tail = uri.split("/").pop() || uri;
  try {
    return decodeURIComponent(tail);
  } catch (_) {
    return tail;
  }
}

async function loadPicture(url, img) {
  try {
    const blob = await (await api(url)).blob();
    const objectUrl = URL.createObjectURL(blob);
    state.urls.push(objectUrl);
    img.src = objectUrl;
  } catch (error) {
    const none = element("span", "none", "picture unavailable");
    none.title = clean(error.message);
    img.replaceWith(none);
  }
}

function card(hit) {
  const article = element("article", "card");
  article.dataset.id = hit.id;
  article.dataset.kind = hit.kind || "";
  const thumb = element("button", "thumb");
  thumb.type = "button";
  thumb.title = "Open";
  if (hit.thumbnail_url) {
    const img = element("img");
    img.alt = clean(hit.caption || shortSource(hit.source_uri));
    thumb.append(img);
    loadPicture(hit.thumbnail_url, img);
  } else {
    thumb.append(element("span", "none", "no preview"));
  }
  thumb.addEventListener("click", () => openViewer(hit));
  const meta = element("div", "meta");
  meta.append(
    element("span", "rank", `#${hit.rank}`),
    element("span", `badge ${hit.kind || ""}`, kindLabel(hit)),
    element("span", "score", hit.score.toFixed(4)),
  );
  const caption = element("p", "caption", hit.caption || "(no caption)");
  caption.title = clean(hit.caption || "");
  const source = element("p", "source", shortSource(hit.source_uri));
  source.title = clean(hit.display_uri || hit.source_uri || "");
  const more = element("button", "more", "More like this");
  more.type = "button";
  more.addEventListener("click", () => moreLike(hit));
  article.append(thumb, meta, caption, source, more);
  return article;
}

function moreLike(hit) {
  state.like = { id: hit.id, caption: hit.caption || shortSource(hit.source_uri) };
  $("q").value = "";
  clearImage();
  $("like-caption").textContent = clean(state.like.caption);
  $("like-banner").hidden = false;
  if ($("viewer").open) $("viewer").close();
  search();
}

function openViewer(hit) {
  const img = $("viewer-img");
  img.removeAttribute("src");
  img.alt = clean(hit.caption || "");
  if (hit.picture_url) loadPicture(hit.picture_url, img);
  $("viewer-title").textContent = clean(hit.caption || shortSource(hit.source_uri));
  const facts = [
    ["kind", hit.kind],
    ["score", hit.score.toFixed(4)],
    ["rank", hit.rank],
  ];
  if (hit.kind === "pdf_page") facts.push(["page", hit.page], ["document", hit.document]);
  facts.push(["source", hit.display_uri || hit.source_uri], ["id", hit.id]);
  $("viewer-facts").replaceChildren(...facts.flatMap(([name, value]) => [
    element("dt", "", name),
    element("dd", `fact-${name}`, value ?? ""),
  ]));
  $("viewer-payload").textContent = clean(JSON.stringify(hit.payload, null, 2));
  $("viewer-more").onclick = () => moreLike(hit);
  $("viewer").showModal();
}

function useImage(file) {
  if (!file) return;
  if (file.size > state.limits.max_upload_bytes) {
    setStatus(`${file.name} is larger than the server's limit of ${state.limits.max_upload_bytes.toLocaleString()} bytes`, true);
    return;
  }
  const reader = new FileReader();
  reader.onload = () => {
    state.image = reader.result;
    $("image-preview").src = reader.result;
    $("image-preview").hidden = false;
    $("drop-label").textContent = clean(file.name);
    $("clear-image").hidden = false;
    search();
  };
  reader.readAsDataURL(file);
}

function clearImage() {
  state.image = null;
  $("image").value = "";
  $("image-preview").hidden = true;
  $("image-preview").removeAttribute("src");
  $("drop-label").textContent = "Drop an image or click to upload";
  $("clear-image").hidden = true;
}

function wire() {
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search();
  });
  $("image").addEventListener("change", () => useImage($("image").files[0]));
  $("clear-image").addEventListener("click", clearImage);
  $("clear-like").addEventListener("click", () => {
    state.like = null;
    $("like-banner").hidden = true;
  });
  const drop = $("drop");
  for (const type of ["dragenter", "dragover"]) {
    document.addEventListener(type, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    document.addEventListener(type, () => drop.classList.remove("over"));
  }
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    useImage(event.dataTransfer.files[0]);
  });
  drop.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") $("image").click();
  });
  // Changing an option re-runs the current search.
  for (const input of document.querySelectorAll(".options input, .options select")) {
    input.addEventListener("change", () => {
      if (buildRequest().text || state.image || state.like) search();
    });
  }
  $("viewer-close").addEventListener("click", () => $("viewer").close());
  $("viewer").addEventListener("click", (event) => {
    if (event.target === $("viewer")) $("viewer").close();
  });
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.key = $("api-key").value;
    sessionStorage.setItem("mmingest-api-key", state.key);
    $("key-form").hidden = true;
    loadInfo();
  });
}

wire();
loadInfo();
