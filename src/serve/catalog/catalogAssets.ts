/**
 * The catalog's stylesheet and script, served from memory under names that
 * hold a hash of their content (so they can be cached as immutable). The
 * pages work without the script; it adds search-as-you-type (suggestions from
 * the JSON API) and keeps the expiry countdown live.
 */
import { createHash } from 'node:crypto';

const CSS = `:root{--fg:#1d232a;--muted:#5b6773;--line:#d8dee4;--accent:#0b63b6;--bg:#fff;--soft:#f4f6f8;--warn:#a4000f}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;gap:12px;align-items:center;padding:10px 24px;border-bottom:1px solid var(--line);background:var(--soft)}
.brand{font-weight:700;font-size:18px;color:var(--fg);text-decoration:none;margin-right:8px}
.search{position:relative;display:flex;gap:6px;flex:1;max-width:520px}.search input{flex:1;padding:6px 10px;border:1px solid var(--line);border-radius:6px;font:inherit}
.search button{padding:6px 12px;border:1px solid var(--line);border-radius:6px;background:var(--bg);font:inherit;cursor:pointer}
#suggest{position:absolute;top:100%;left:0;right:0;z-index:2;margin:4px 0 0;padding:0;list-style:none;background:var(--bg);border:1px solid var(--line);border-radius:6px;box-shadow:0 4px 14px rgba(0,0,0,.08)}
#suggest:empty{display:none}#suggest a{display:block;padding:6px 10px;text-decoration:none;color:var(--fg)}#suggest a:hover,#suggest a:focus{background:var(--soft)}
nav a{margin-left:12px}a{color:var(--accent)}main{padding:8px 24px 32px;max-width:1280px}
footer{padding:12px 24px;border-top:1px solid var(--line);color:var(--muted);font-size:13px}
h1 .version,.version{color:var(--muted);font-weight:400}.muted{color:var(--muted)}.summary{margin-top:0}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}.facts dt{color:var(--muted)}.facts dd{margin:0}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}thead th{background:var(--soft);font-weight:600}
tr.selected td{background:#eaf3fc}.scroll{overflow-x:auto}code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
.sha256,.wrap{word-break:break-all;font-size:11px;color:var(--muted)}.tag{font-size:12px;background:var(--soft);border:1px solid var(--line);border-radius:10px;padding:0 6px}
.countdown.expired{color:var(--warn);font-weight:600}.columns{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:0 24px}
.results{list-style:none;padding:0}.results li{padding:8px 0;border-bottom:1px solid var(--line)}
.advisory-badge{display:inline-block;font-size:12px;background:#fdecea;color:var(--warn);border:1px solid #f5c2c0;border-radius:10px;padding:0 6px;white-space:nowrap}
.advisories li{margin-bottom:4px}
.files{columns:2 420px;padding-left:18px}.serial{border-bottom:1px solid var(--line);padding-bottom:8px}.message{font-style:italic}
`;

const JS = `'use strict';
(function () {
  var countdowns = document.querySelectorAll('.countdown[data-expires]');
  function relative(ms) {
    var s = Math.round(Math.abs(ms) / 1000), parts = [], units = [['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];
    for (var i = 0; i < units.length && parts.length < 2; i++) {
      var n = Math.floor(s / units[i][1]); s -= n * units[i][1];
      if (n > 0 || (parts.length === 0 && units[i][1] === 1)) parts.push(n + ' ' + units[i][0] + (n === 1 ? '' : 's'));
    }
    return ms >= 0 ? 'in ' + parts.join(', ') : 'expired ' + parts.join(', ') + ' ago';
  }
  function tick() {
    for (var i = 0; i < countdowns.length; i++) {
      var ms = Date.parse(countdowns[i].getAttribute('data-expires')) - Date.now();
      countdowns[i].textContent = relative(ms);
      countdowns[i].classList.toggle('expired', ms <= 0);
    }
  }
  if (countdowns.length > 0) { tick(); setInterval(tick, 1000); }

  var input = document.getElementById('q');
  if (!input) return;
  var list = document.createElement('ul');
  list.id = 'suggest';
  list.setAttribute('role', 'listbox');
  input.parentNode.appendChild(list);
  var timer = null, asked = 0;
  input.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = input.value.trim(), mine = ++asked;
      if (q === '') { list.textContent = ''; return; }
      fetch('/api/v1/search?limit=8&q=' + encodeURIComponent(q)).then(function (r) { return r.json(); }).then(function (data) {
        if (mine !== asked) return;
        list.textContent = '';
        data.results.forEach(function (item) {
          var li = document.createElement('li'), a = document.createElement('a');
          a.href = '/package/' + encodeURIComponent(item.name);
          a.textContent = item.name + ' ' + item.version + ' \\u2014 ' + item.summary;
          li.appendChild(a); list.appendChild(li);
        });
      }).catch(function () {});
    }, 120);
  });
  document.addEventListener('click', function (event) { if (!list.contains(event.target) && event.target !== input) list.textContent = ''; });
})();
`;

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path d="M6 28V12L16 4l10 8v16z" fill="#0b63b6"/><path d="M12 28v-8a4 4 0 0 1 8 0v8z" fill="#f5a524"/></svg>
`;

function asset(name: string, ext: string, contentType: string, text: string) {
  const body = Buffer.from(text, 'utf8');
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { href: `/static/${name}-${hash}.${ext}`, contentType, body, etag: `"${hash}"` };
}

export const ASSETS = {
  css: asset('catalog', 'css', 'text/css; charset=utf-8', CSS),
  js: asset('catalog', 'js', 'text/javascript; charset=utf-8', JS),
  icon: asset('icon', 'svg', 'image/svg+xml', ICON),
};
