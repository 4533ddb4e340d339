/* Customer portal forms with photos, as progressive enhancement: without this file the plain
   multipart form still works. With it: photos are shrunk in the browser where it can decode
   them, sent one by one with a progress bar, retried on failure without touching what was
   typed, carried in the form as tokens; a barcode or QR code on the nameplate can be scanned
   where the browser has BarcodeDetector; and the form is sent once only. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var MAX_SIDE = 2560, QUALITY = 0.85, SHRINK_ABOVE = 1.5e6;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function shrink(file) {
    if (!/^image\/(jpeg|png|webp)$/.test(file.type) || !window.createImageBitmap) {
      return Promise.resolve(file);  // HEIC and friends: the server takes them as they are
    }
    return createImageBitmap(file).then(function (bmp) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bmp.width, bmp.height));
      if (scale === 1 && file.size < SHRINK_ABOVE) return file;
      var canvas = el("canvas");
      canvas.width = Math.round(bmp.width * scale);
      canvas.height = Math.round(bmp.height * scale);
      canvas.getContext("2d").drawImage(bmp, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) return resolve(file);
          resolve(new File([blob], file.name.replace(/\.\w+$/, "") + ".jpg", {type: "image/jpeg"}));
        }, "image/jpeg", QUALITY);
      });
    }).catch(function () { return file; });
  }

  function setUp(form) {
    var msg = form.dataset, list = form.querySelector(".photo-list");
    var keyInput = form.querySelector("[name=submission_key],[name=form_key]");
    var csrf = form.querySelector("[name=csrf_token]");
    var submit = form.querySelector("button[type=submit].submit");
    var maxPhotos = parseInt(msg.maxPhotos || "10", 10);
    var pending = 0, sent = false, submitLabel = submit ? submit.textContent : "";

    function refresh() {
      if (!submit) return;
      submit.disabled = pending > 0 || sent;
      if (!sent) submit.textContent = pending > 0 ? msg.msgWait : submitLabel;
    }

    function count() { return list.querySelectorAll(".photo-item:not(.refused)").length; }

    function upload(item, file) {
      var status = item.querySelector(".photo-status"), bar = item.querySelector("progress");
      var actions = item.querySelector(".actions");
      item.className = "photo-item busy";
      status.textContent = msg.msgUploading;
      bar.hidden = false; bar.value = 0;
      actions.textContent = "";
      pending++; refresh();
      var data = new FormData();
      data.append("csrf_token", csrf.value);
      data.append("form_key", keyInput.value);
      data.append("photo", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", msg.stageUrl);
      xhr.setRequestHeader("X-CSRFToken", csrf.value);
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = 100 * e.loaded / e.total; };
      xhr.onloadend = function () {
        pending--;
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (ignore) { body = null; }
        bar.hidden = true;
        if (xhr.status === 200 && body && body.token) {
          var hidden = el("input"); hidden.type = "hidden"; hidden.name = "staged_photo"; hidden.value = body.token;
          item.appendChild(hidden);
          item.className = "photo-item done";
          status.textContent = msg.msgDone;
        } else if (xhr.status === 422 && body && body.error) {
          item.className = "photo-item failed refused";  // the file itself was refused: no retry
          status.textContent = body.error;
        } else {
          item.className = "photo-item failed";
          status.textContent = (body && body.error) || msg.msgFailed;
          var retry = el("button", "button small", msg.msgRetry); retry.type = "button";
          retry.onclick = function () { upload(item, file); };
          actions.appendChild(retry);
        }
        var remove = el("button", "button small", msg.msgRemove); remove.type = "button";
        remove.onclick = function () { item.remove(); refresh(); };
        actions.appendChild(remove);
        refresh();
      };
      xhr.send(data);
    }

    function add(file) {
      if (count() >= maxPhotos) { alert(msg.msgToomany); return; }
      var item = el("li", "photo-item busy");
      var thumb = el("span", "thumb", (file.name.split(".").pop() || "").toUpperCase());
      item.appendChild(thumb);
      item.appendChild(el("span", "photo-name", file.name));
      var actions = el("span", "actions");
      item.appendChild(actions);
      item.appendChild(el("span", "photo-status", msg.msgUploading));
      var bar = el("progress"); bar.max = 100; bar.value = 0;
      bar.setAttribute("aria-label", file.name);
      item.appendChild(bar);
      list.appendChild(item);
      shrink(file).then(function (ready) {
        if (/^image\/(jpeg|png|webp)$/.test(ready.type)) {
          var img = el("img"); img.alt = ""; img.src = URL.createObjectURL(ready);
          item.replaceChild(img, thumb);
        }
        upload(item, ready);
      });
    }

    form.querySelectorAll("input[type=file][name=photos]").forEach(function (input) {
      input.addEventListener("change", function () {
        Array.prototype.forEach.call(input.files, add);
        input.value = "";  // the files travel as tokens now, not with the form
      });
    });

    // Files already received in an earlier attempt: "Remove" as a button instead of a box.
    list.querySelectorAll(".photo-drop").forEach(function (label) {
      var remove = el("button", "button small", msg.msgRemove); remove.type = "button";
      remove.onclick = function () { label.closest(".photo-item").remove(); refresh(); };
      label.replaceWith(remove);
    });

    form.addEventListener("submit", function (e) {
      if (pending > 0 || sent) { e.preventDefault(); return; }
      sent = true;  // once only: a second tap does nothing (the server also files once)
      setTimeout(refresh, 0);
    });
    window.addEventListener("pageshow", function () { sent = false; refresh(); });

    var scan = form.querySelector(".scan"), serials = form.querySelector("textarea[name=serials]");
    if (scan && serials && "BarcodeDetector" in window && window.createImageBitmap) {
      scan.hidden = false;
      scan.querySelector("input").addEventListener("change", function () {
        var file = this.files[0]; this.value = "";
        if (!file) return;
        createImageBitmap(file).then(function (bmp) {
          return new window.BarcodeDetector().detect(bmp);
        }).then(function (codes) {
          var found = codes.map(function (c) { return (c.rawValue || "").trim(); }).filter(Boolean);
          if (!found.length) { alert(msg.msgNocode); return; }
          serials.value = (serials.value.trim() ? serials.value.trim() + "\n" : "") + found.join("\n");
          serials.dispatchEvent(new Event("change", {bubbles: true}));
        }).catch(function () { alert(msg.msgNocode); });
      });
    }
  }

  document.querySelectorAll("form[data-stage-url]").forEach(setUp);
})();
