// Essaim: small progressive enhancements. Every page works without this file.
'use strict';
(function () {
  // Search box autocomplete: fills the <datalist> from /search/suggest.
  document.querySelectorAll('input[data-suggest]').forEach(function (input) {
    var list = document.getElementById(input.getAttribute('list'));
    var timer = null;
    var last = '';
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (q.length < 2 || q === last || !list) return;
        last = q;
        fetch(input.getAttribute('data-suggest') + '?q=' + encodeURIComponent(q), { headers: { Accept: 'application/json' } })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            list.textContent = '';
            (items || []).forEach(function (s) {
              var o = document.createElement('option');
              o.value = s;
              list.appendChild(o);
            });
          })
          .catch(function () {});
      }, 150);
    });
  });

  // Live preview of descriptions: <textarea data-preview="/upload/preview" data-format-field="format" data-target="id">.
  document.querySelectorAll('textarea[data-preview]').forEach(function (area) {
    var target = document.getElementById(area.getAttribute('data-target'));
    var form = area.form;
    if (!target || !form) return;
    var timer = null;
    function refresh() {
      var fmtField = form.elements[area.getAttribute('data-format-field') || 'format'];
      var body = new URLSearchParams();
      body.set('text', area.value);
      body.set('format', fmtField ? fmtField.value : 'bbcode');
      body.set('_csrf', form.elements._csrf ? form.elements._csrf.value : '');
      fetch(area.getAttribute('data-preview'), { method: 'POST', body: body, headers: { Accept: 'text/html' } })
        .then(function (r) { return r.ok ? r.text() : ''; })
        .then(function (h) { target.innerHTML = h; })
        .catch(function () {});
    }
    area.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(refresh, 300); });
    form.addEventListener('change', function (e) { if (e.target && e.target.name === (area.getAttribute('data-format-field') || 'format')) refresh(); });
    if (area.value) refresh();
  });
})();
