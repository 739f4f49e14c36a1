/**
 * Secrets in a plugin's manifest (credentials and query values in a backend URL, header values)
 * are used, and never shown: not in logs, /readyz, /healthz, the CLI's output, or the errors
 * clients get.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, connect, freePort, startProcess, startProxy, textOf, until, type RunningProcess } from './helpers.ts';
import { REDACTED, Secrets, redactUrl, splitCredentials } from '../core/redact.ts';

const run = promisify(execFile);

test('URLs are shown without user info and with query values replaced', () => {
  assert.equal(redactUrl('https://agent:pw@mcp.example.com:8443/mcp?api_key=abc&x=1#frag'), `https://mcp.example.com:8443/mcp?api_key=${REDACTED}&x=${REDACTED}#frag`);
  assert.equal(redactUrl('http://localhost:3001/mcp'), 'http://localhost:3001/mcp');
  assert.equal(redactUrl('not a url //user:pw@host'), 'not a url //host');
  // Resource URIs of any scheme (the access log shows them): the scheme and path stay, the query values go.
  assert.equal(redactUrl('docs://guide/intro?api_key=abc#part'), `docs://guide/intro?api_key=${REDACTED}#part`);
  assert.equal(redactUrl('file:///srv/data.csv?token=abc'), `file:///srv/data.csv?token=${REDACTED}`);
  const { url, authorization } = splitCredentials('https://agent:p%40ss@host/mcp');
  assert.equal(url.href, 'https://host/mcp');
  assert.equal(authorization, `Basic ${Buffer.from('agent:p@ss').toString('base64')}`);
});

test('the scrubber replaces every known secret, also URL-encoded and JSON-escaped, and ignores values too short to be secrets', () => {
  const secrets = new Secrets();
  secrets.set('a', ['tok-123456', 'p@ss/word"x', 'ab']);
  assert.equal(secrets.scrub('Bearer tok-123456 and tok-123456'), `Bearer ${REDACTED} and ${REDACTED}`);
  assert.equal(secrets.scrub(`url ${encodeURIComponent('p@ss/word"x')}`), `url ${REDACTED}`);
  assert.equal(secrets.scrub(JSON.stringify({ v: 'p@ss/word"x' })), `{"v":"${REDACTED}"}`);
  assert.equal(secrets.scrub('ab stays'), 'ab stays');
  secrets.delete('a');
  assert.equal(secrets.scrub('tok-123456'), 'tok-123456');
});

const PASSWORD = 's3cr3t-pass-word';
const API_KEY = 'k3y-value-123456';
const TOKEN = 'tok-abcdef123456';

test('a backend URL with credentials and an API key: it works, and no secret appears in logs, /readyz, the CLI or client errors', async () => {
  const port = await freePort();
  let remote: RunningProcess | undefined = await startProcess(process.execPath, ['--import', 'tsx', 'test/fixtures/remote-server.ts'], {
    env: { PORT: String(port) },
    ready: /listening (http:\S+)/,
  });
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-redaction-'));
  await mkdir(join(dir, 'svc'));
  await writeFile(
    join(dir, 'svc', 'plugin.json'),
    JSON.stringify({ prefix: 'svc', remote: { url: `http://agent:${PASSWORD}@127.0.0.1:${port}/mcp?api_key=${API_KEY}`, headers: { 'X-Api-Token': TOKEN } } }),
  );
  const proxy = await startProxy({ pluginDirs: [dir] });
  const { client, close } = await connect(proxy.url);
  const seen: string[] = [];
  try {
    // The credentials are used: user info as Basic auth, the header as given.
    const headers = JSON.parse(textOf(await client.callTool({ name: 'svc_headers' })));
    assert.equal(headers.authorization, `Basic ${Buffer.from(`agent:${PASSWORD}`).toString('base64')}`);
    assert.equal(headers['x-api-token'], TOKEN);

    // The backend goes away: errors everywhere, none with a secret.
    await remote.stop();
    remote = undefined;
    const failed = await client.callTool({ name: 'svc_shout', arguments: { text: 'x' } }).then(
      () => assert.fail('the call should fail'),
      (error: Error) => error.message,
    );
    seen.push(failed);
    assert.match(failed, /plugin "svc"/);
    const fresh = await connect(proxy.url);
    seen.push(await fresh.client.callTool({ name: 'svc_shout', arguments: { text: 'x' } }).then(() => '', (error: Error) => error.message));
    await fresh.close();
    const readyz = await until(async () => {
      const text = await (await fetch(proxy.url.replace('/mcp', '/readyz'))).text();
      return /cannot reach/.test(text) ? text : undefined;
    }, 'the plugin to be reported unavailable');
    seen.push(readyz);
    assert.match(readyz, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}/mcp\\?api_key=\\*\\*\\*`), 'the URL is shown, redacted');
    seen.push(await (await fetch(proxy.url.replace('/mcp', '/healthz'))).text());
    const cli = await run(process.execPath, [join(ROOT, 'bin/switchboard.js'), 'plugins', proxy.url]).catch((error) => error as { stdout: string; stderr: string });
    seen.push(cli.stdout, cli.stderr);
    assert.match(cli.stdout, /svc\s+remote\s+unavailable/);
    seen.push(...proxy.logs().map((line) => JSON.stringify(line)));

    const basic = Buffer.from(`agent:${PASSWORD}`).toString('base64');
    for (const secret of [PASSWORD, API_KEY, TOKEN, basic]) {
      const leaks = seen.filter((text) => text.includes(secret));
      assert.deepEqual(leaks, [], `the secret ${secret} was shown`);
    }
  } finally {
    await close();
    await proxy.close();
    await remote?.stop();
  }
});
