/* eslint-disable */ // Verbatim copy of ../shared/bench-peers/baseline-server.js (the peers' plain-Node baseline); only this line added. bench/run.js checks it still matches.
// Plain-Node baseline: the same W1/W2 work done with direct function calls
// inside one HTTP handler (no framework, no engine). Practical upper limit.
'use strict';
const http = require('http');
const port = Number(process.env.PORT || 18080);
const host = '127.0.0.1';

// W1: 10 sequential lightweight transforms, each adds one field.
const w1Steps = [];
for (let i = 1; i <= 10; i++) w1Steps.push((o) => { o['f' + i] = i; return o; });
function w1(body) { let o = body; for (const s of w1Steps) o = s(o); return o; }

// W2: fan-out to 8 branches x 3 transforms, then merge (array of 8 results).
async function branch(k, o) {
  o = { ...o };                         // each branch works on its own copy
  o['b' + k + '_1'] = k; o['b' + k + '_2'] = k; o['b' + k + '_3'] = k;
  return o;
}
async function w2(body) {
  body.fanout = true;
  const branches = [];
  for (let k = 0; k < 8; k++) branches.push(branch(k, body));
  return Promise.all(branches);        // merge
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
      let out;
      if (req.method === 'POST' && req.url === '/w1') out = w1(body);
      else if (req.method === 'POST' && req.url === '/w2') out = await w2(body);
      else { res.writeHead(404); res.end(); return; }
      const s = JSON.stringify(out);
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(s) });
      res.end(s);
    } catch (e) { res.writeHead(500); res.end(String(e)); }
  });
});
server.keepAliveTimeout = 65000;
server.listen(port, host, () => console.log(`baseline listening on http://${host}:${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
