// Resumable uploads on the documents page (docs/uploads.md). Without this script the form
// sends its files in one POST; with it, each chosen file goes at once in pieces, with a
// progress bar, and a dropped connection resumes from the last byte the server kept (also
// after a reload: the upload's address is remembered for the same file).
(() => {
  "use strict";
  const form = document.querySelector("form[data-uploads]");
  if (!form || !window.fetch || !window.XMLHttpRequest || !window.Blob) return;
  const base = form.dataset.uploads;
  const csrf = (form.querySelector("input[name=csrf]") || {}).value || "";
  const PIECE = 1024 * 1024;
  const running = new Set();
  const t = (key, pct) => (form.dataset["t" + key[0].toUpperCase() + key.slice(1)] || "")
    .replace("{pct}", String(pct));

  const b64 = (text) => {
    const bytes = new TextEncoder().encode(text);
    let s = "";
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const online = () => navigator.onLine !== false ? Promise.resolve()
    : new Promise((r) => window.addEventListener("online", r, { once: true }));
  const storeKey = (field, f) =>
    ["upload", base, field, f.name, f.size, f.lastModified].join("|");
  const remember = (k, v) => { try { v ? localStorage.setItem(k, v) : localStorage.removeItem(k); } catch (e) { /* private mode */ } };
  const recall = (k) => { try { return localStorage.getItem(k); } catch (e) { return null; } };

  // An error the server explained: the upload stops and the reason is shown.
  class Refused extends Error {}

  async function reason(res) {
    try {
      const body = await res.json();
      const e = body && body.error;
      const field = e && e.fields && Object.values(e.fields)[0];
      return field || (e && e.message) || t("failed");
    } catch (e) {
      return t("failed");
    }
  }

  // The server's offset of an upload, or null when it is gone (expired, replaced).
  async function offsetOf(url) {
    const res = await fetch(url, { method: "HEAD", credentials: "same-origin", cache: "no-store" });
    if (res.status === 404) return null;
    if (!res.ok) throw new Error("HEAD " + res.status);
    return Number(res.headers.get("Upload-Offset"));
  }

  async function create(field, file) {
    const res = await fetch(base, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Tus-Resumable": "1.0.0",
        "X-CSRF-Token": csrf,
        "Upload-Length": String(file.size),
        "Upload-Metadata": "field " + b64(field) + ",filename " + b64(file.name),
      },
    });
    if (res.status === 201) return res.headers.get("Location");
    if (res.status >= 500 || res.status === 429) throw new Error("POST " + res.status);
    throw new Refused(await reason(res));
  }

  // One piece by XHR (fetch has no upload progress). Resolves with the new offset.
  function send(url, file, offset, onProgress) {
    return new Promise((resolve, reject) => {
      const end = Math.min(offset + PIECE, file.size);
      const xhr = new XMLHttpRequest();
      xhr.open("PATCH", url);
      xhr.withCredentials = true;
      xhr.setRequestHeader("Tus-Resumable", "1.0.0");
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("Upload-Offset", String(offset));
      xhr.setRequestHeader("Content-Type", "application/offset+octet-stream");
      xhr.upload.onprogress = (e) => onProgress(offset + e.loaded);
      xhr.onerror = xhr.ontimeout = () => reject(new Error("network"));
      xhr.onload = () => {
        if (xhr.status === 204) return resolve(Number(xhr.getResponseHeader("Upload-Offset")));
        const res = new Response(xhr.responseText, { status: xhr.status });
        // Lost, out of step, busy or cut off: ask the offset again and go on.
        if ([400, 404, 408, 409, 429].includes(xhr.status) || xhr.status >= 500) {
          const wait = Number(xhr.getResponseHeader("Retry-After") || 0) * 1000;
          const err = new Error("PATCH " + xhr.status);
          err.status = xhr.status;
          err.wait = wait;
          return reject(err);
        }
        reason(res).then((why) => reject(new Refused(why)));
      };
      xhr.send(file.slice(offset, end));
    });
  }

  function show(input, pct, text) {
    const box = document.getElementById(input.id + "-progress");
    const bar = document.getElementById(input.id + "-bar");
    const live = document.getElementById(input.id + "-live");
    if (box) box.hidden = false;
    if (bar) bar.value = pct;
    if (live && text !== undefined && live.textContent !== text) live.textContent = text;
  }

  function showUploaded(input, file) {
    let status = document.getElementById(input.id + "-status");
    if (!status) {
      status = document.createElement("p");
      status.id = input.id + "-status";
      status.className = "uploaded";
      input.parentNode.insertBefore(status, input);
      const described = (input.getAttribute("aria-describedby") || "").split(" ");
      if (!described.includes(status.id)) described.push(status.id);
      input.setAttribute("aria-describedby", described.join(" ").trim());
    }
    const kb = Math.max(1, Math.ceil(file.size / 1024));
    const size = kb >= 1024 ? (file.size / 1048576).toFixed(1) + " MB" : kb + " KB";
    status.textContent = t("uploaded") + ": " + file.name + " (" + size + ").";
  }

  async function upload(input, file) {
    const field = input.name;
    const key = storeKey(field, file);
    const pctOf = (n) => Math.floor((n * 100) / file.size);
    let said = -1;
    const progress = (n) => {
      const pct = pctOf(n);
      // The bar moves with every event; the spoken status only every quarter.
      const milestone = Math.floor(pct / 25);
      show(input, pct, milestone !== said ? t("uploading", pct) : undefined);
      said = milestone;
    };
    let url = recall(key);
    let offset = null;
    let delay = 1000;
    show(input, 0, t("uploading", 0));
    for (;;) {
      try {
        if (url) offset = await offsetOf(url);
        if (offset === null) {
          url = await create(field, file);
          remember(key, url);
          offset = 0;
        }
        while (offset < file.size) {
          offset = await send(url, file, offset, progress);
          progress(offset);
          delay = 1000;
        }
        remember(key, null);
        show(input, 100, t("done"));
        showUploaded(input, file);
        input.removeAttribute("aria-invalid");
        // Kept on the server already: the form must not send it again.
        input.value = "";
        return;
      } catch (e) {
        if (e instanceof Refused) {
          remember(key, null);
          show(input, 0, e.message);
          input.setAttribute("aria-invalid", "true");
          return;
        }
        if (e.status === 404) { url = null; offset = null; }
        const at = offset === null ? 0 : pctOf(offset);
        show(input, at, t("paused", at));
        await online();
        await sleep(Math.max(delay, e.wait || 0));
        delay = Math.min(delay * 2, 30000);
        // Ask the server where it stands before sending again.
        offset = null;
      }
    }
  }

  for (const input of form.querySelectorAll("input[type=file][data-resumable]")) {
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      if (!file || file.size === 0) return;
      const job = upload(input, file).finally(() => running.delete(job));
      running.add(job);
    });
  }

  form.addEventListener("submit", (e) => {
    if (running.size === 0) return;
    e.preventDefault();
    const first = form.querySelector("input[type=file][data-resumable]");
    const live = first && document.getElementById(first.id + "-live");
    if (live) live.textContent = t("wait");
  });
})();
