// Renders the operations of /api/openapi.json: grouped by tag, each with its permission, parameters,
// request body schema and responses. Text only (textContent), so nothing in the document is run as HTML.
"use strict";

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

function resolve(doc, schema) {
  const ref = schema && schema.$ref;
  if (!ref) return schema;
  const name = ref.split("/").pop();
  return Object.assign({ title: name }, doc.components.schemas[name]);
}

function section(parent, title, value) {
  parent.appendChild(el("h4", title));
  parent.appendChild(el("pre", JSON.stringify(value, null, 2)));
}

function render(doc) {
  const root = document.getElementById("operations");
  root.textContent = "";
  const byTag = {};
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || "other";
      (byTag[tag] = byTag[tag] || []).push([method, path, op]);
    }
  }
  for (const tag of Object.keys(byTag).sort()) {
    root.appendChild(el("h2", tag));
    for (const [method, path, op] of byTag[tag]) {
      const box = el("details");
      const head = el("summary");
      head.appendChild(el("span", method.toUpperCase(), "method"));
      head.appendChild(el("span", path, "path"));
      head.appendChild(el("span", " " + (op.summary || "")));
      head.appendChild(el("span", op["x-permission"] ? "needs " + op["x-permission"] : "public", "perm"));
      box.appendChild(head);
      if (op.parameters) section(box, "Parameters", op.parameters);
      if (op.requestBody) {
        section(box, "Request body", resolve(doc, op.requestBody.content["application/json"].schema));
      }
      const responses = {};
      for (const [status, resp] of Object.entries(op.responses)) {
        const media = resp.content ? Object.values(resp.content)[0] : null;
        responses[status] = { description: resp.description, schema: media ? resolve(doc, media.schema) : null };
      }
      section(box, "Responses", responses);
      root.appendChild(box);
    }
  }
}

fetch("/api/openapi.json")
  .then((resp) => resp.json())
  .then(render)
  .catch((err) => { document.getElementById("operations").textContent = "could not load the document: " + err; });
