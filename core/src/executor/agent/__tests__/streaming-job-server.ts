/**
 * A streaming job's server for tests, as a `node -e` program (the process runner's stand-in for a
 * job image): listens on `$HORDE_STREAMING_PORT`; `GET /health` answers 200 (never, with
 * `NEVER_HEALTHY=1`); `POST /echo` answers the body upper-cased; `GET /terminate` answers and
 * ends the job, which prints how many requests it served.
 */
export const STREAMING_SERVER_JS = `
const http = require('node:http');
let served = 0;
const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(process.env.NEVER_HEALTHY === '1' ? 503 : 200).end('ok');
    return;
  }
  served += 1;
  if (req.url === '/echo' && req.method === 'POST') {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(body.toUpperCase()));
    return;
  }
  if (req.url === '/terminate') {
    res.writeHead(200, { connection: 'close' }).end('bye');
    console.log('served ' + served + ' requests');
    server.close();
    setTimeout(() => process.exit(0), 50);
    return;
  }
  res.writeHead(404).end();
});
server.listen(Number(process.env.HORDE_STREAMING_PORT), process.env.HORDE_STREAMING_HOST || '0.0.0.0');
`;

/** Image names the process runner maps to the server above. */
export const STREAMING_IMAGE = 'horde/streaming-test:1';
export const streamingProcessImages = { [STREAMING_IMAGE]: [process.execPath, '-e', STREAMING_SERVER_JS] };
