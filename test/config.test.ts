import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envName, loadConfig } from '../core/config/config.ts';
import { DEFAULTS } from '../core/config/settings.ts';

async function dirWith(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-config-'));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

test('with nothing set, the proxy serves plugins/ on 0.0.0.0:8490', async () => {
  const cwd = await dirWith({});
  const config = await loadConfig({ cwd, env: {} });
  assert.equal(config.port, 8490);
  assert.equal(config.host, '0.0.0.0');
  assert.deepEqual(config.pluginDirs, [join(cwd, 'plugins')]);
  assert.equal(config.sessionIdleTimeoutMs, DEFAULTS.sessionIdleTimeoutMs);
  assert.equal(config.configFile, undefined);
});

test('config file < environment < flags', async () => {
  const cwd = await dirWith({ 'switchboard.config.json': JSON.stringify({ port: 9000, host: '127.0.0.1', pageSize: 10 }) });
  const fileOnly = await loadConfig({ cwd, env: {} });
  assert.equal(fileOnly.port, 9000);
  assert.equal(fileOnly.pageSize, 10);
  assert.equal(fileOnly.configFile, join(cwd, 'switchboard.config.json'));
  const withEnv = await loadConfig({ cwd, env: { PORT: '9100', SWITCHBOARD_PAGE_SIZE: '20' } });
  assert.equal(withEnv.port, 9100);
  assert.equal(withEnv.pageSize, 20);
  const withFlags = await loadConfig({ cwd, env: { PORT: '9100', HOST: '::1' }, flags: { port: '9200' } });
  assert.equal(withFlags.port, 9200);
  assert.equal(withFlags.host, '::1');
});

test('every setting has an environment variable', () => {
  assert.equal(envName('sessionIdleTimeoutMs'), 'SWITCHBOARD_SESSION_IDLE_TIMEOUT_MS');
  assert.equal(envName('pluginDirs'), 'SWITCHBOARD_PLUGIN_DIRS');
  assert.equal(envName('allowedHosts'), 'SWITCHBOARD_ALLOWED_HOSTS');
});

test('plugin directories add up: file (relative to the file), environment, flags', async () => {
  const cwd = await dirWith({ '.switchboardrc.json': JSON.stringify({ pluginDirs: ['baked'] }) });
  const config = await loadConfig({ cwd, env: { SWITCHBOARD_PLUGIN_DIRS: '/mnt/a:/mnt/b' }, flags: { plugins: ['extra'] } });
  assert.deepEqual(config.pluginDirs, [join(cwd, 'baked'), '/mnt/a', '/mnt/b', join(cwd, 'extra')]);
});

test('lists from the environment are comma-separated', async () => {
  const config = await loadConfig({ cwd: await dirWith({}), env: { SWITCHBOARD_ALLOWED_HOSTS: 'localhost, proxy.internal' } });
  assert.deepEqual(config.allowedHosts, ['localhost', 'proxy.internal']);
});

test('YAML and TypeScript config files are read', async () => {
  const yaml = await loadConfig({ cwd: await dirWith({ 'switchboard.config.yaml': 'port: 7000\nallowedHosts: ["*"]\n' }), env: {} });
  assert.equal(yaml.port, 7000);
  assert.deepEqual(yaml.allowedHosts, ['*']);
  const ts = await loadConfig({ cwd: await dirWith({ 'switchboard.config.ts': 'const port: number = 7100;\nexport default { port };\n' }), env: {} });
  assert.equal(ts.port, 7100);
});

test('an unknown key in the config file is an error naming the key and the file, with a suggestion', async () => {
  const cwd = await dirWith({ 'switchboard.config.json': JSON.stringify({ prot: 1 }) });
  await assert.rejects(loadConfig({ cwd, env: {} }), (error: Error) => {
    assert.match(error.message, /switchboard\.config\.json: unknown key "prot" \(did you mean "port"\?\)/);
    return true;
  });
});

test('a bad value names the key and where it came from', async () => {
  const cwd = await dirWith({ 'switchboard.config.json': JSON.stringify({ port: 'eighty' }) });
  await assert.rejects(loadConfig({ cwd, env: {} }), /switchboard\.config\.json: key "port"/);
  await assert.rejects(loadConfig({ cwd: await dirWith({}), env: { PORT: 'abc' } }), /environment variable SWITCHBOARD_PORT \(port\): "abc" is not valid/);
  await assert.rejects(loadConfig({ cwd: await dirWith({}), env: {}, flags: { port: '70000' } }), /flag --port \(port\): "70000" is not valid/);
  await assert.rejects(loadConfig({ cwd: await dirWith({}), env: { SWITCHBOARD_WATCH: 'maybe' } }), /environment variable SWITCHBOARD_WATCH \(watch\): "maybe" is not valid: must be true, false or "poll"$/, 'the message says what watch accepts');
  await assert.rejects(loadConfig({ cwd: await dirWith({}), env: { SWITCHBOARD_LOG_LEVEL: 'loud' } }), /SWITCHBOARD_LOG_LEVEL \(logLevel\)/);
});

test('CORS and the limits: off or generous by default, set from a file or as JSON in the environment, checked', async () => {
  const defaults = await loadConfig({ cwd: await dirWith({}), env: {} });
  assert.equal(defaults.cors, undefined, 'no CORS headers unless asked for');
  assert.equal(defaults.rateLimit, undefined, 'no rate limit unless asked for');
  assert.equal(defaults.maxRequestsPerSession, 64);
  assert.equal(defaults.maxHeaders, 100);
  assert.equal(defaults.maxHeaderBytes, 16384);

  const cors = { origins: ['https://app.example.com'], credentials: true, maxAgeSec: 60 };
  const fromFile = await loadConfig({ cwd: await dirWith({ 'switchboard.config.json': JSON.stringify({ cors, rateLimit: { requests: 600, perSeconds: 60 }, maxHeaders: 50 }) }), env: {} });
  assert.deepEqual(fromFile.cors, cors);
  assert.deepEqual(fromFile.rateLimit, { requests: 600, perSeconds: 60 });
  assert.equal(fromFile.maxHeaders, 50);
  const fromEnv = await loadConfig({
    cwd: await dirWith({}),
    env: {
      SWITCHBOARD_CORS: '{"origins": ["*"]}',
      SWITCHBOARD_RATE_LIMIT: '{"requests": 10, "perSeconds": 1}',
      SWITCHBOARD_MAX_REQUESTS_PER_SESSION: '8',
      SWITCHBOARD_MAX_HEADER_BYTES: '32768',
    },
  });
  assert.deepEqual(fromEnv.cors, { origins: ['*'] });
  assert.deepEqual(fromEnv.rateLimit, { requests: 10, perSeconds: 1 });
  assert.equal(fromEnv.maxRequestsPerSession, 8);
  assert.equal(fromEnv.maxHeaderBytes, 32768);

  const empty = await dirWith({});
  const env = (vars: Record<string, string>) => loadConfig({ cwd: empty, env: vars });
  await assert.rejects(env({ SWITCHBOARD_CORS: 'https://app.example.com' }), /SWITCHBOARD_CORS \(cors\): must be JSON, e\.g\. \{"origins": \["https:\/\/app\.example\.com"\]\}/);
  await assert.rejects(env({ SWITCHBOARD_CORS: '{"origins": ["*"], "credentials": true}' }), /credentials cannot be used with origins \["\*"\]/);
  await assert.rejects(env({ SWITCHBOARD_CORS: '{"origins": ["https://app.example.com/"]}' }), /environment variable SWITCHBOARD_CORS: key "cors\.origins\.0": must be "\*" or an origin/);
  await assert.rejects(env({ SWITCHBOARD_RATE_LIMIT: '{"requests": 10}' }), /environment variable SWITCHBOARD_RATE_LIMIT: key "rateLimit\.perSeconds"/);
  await assert.rejects(env({ SWITCHBOARD_RATE_LIMIT: '600/60' }), /SWITCHBOARD_RATE_LIMIT \(rateLimit\): must be JSON, e\.g\. \{"requests": 600, "perSeconds": 60\}/);
  const file = await dirWith({ 'switchboard.config.json': JSON.stringify({ cors: { origins: [] } }) });
  await assert.rejects(loadConfig({ cwd: file, env: {} }), /key "cors\.origins"/);
});

test('a config file named explicitly must exist and parse', async () => {
  const cwd = await dirWith({ 'broken.json': '{ not json' });
  await assert.rejects(loadConfig({ cwd, env: { SWITCHBOARD_CONFIG: 'broken.json' } }), /config file broken\.json: cannot be read/);
  await assert.rejects(loadConfig({ cwd, env: {}, flags: { config: 'missing.json' } }), /config file missing\.json: cannot be read/);
});

test('${VAR} and ${VAR:-default} in any string of the config file, nested ones included, come from the environment', async () => {
  const cwd = await dirWith({
    'switchboard.config.json': JSON.stringify({
      host: '${BIND_HOST:-127.0.0.1}',
      allowedHosts: ['localhost', '${PUBLIC_NAME}'],
      pluginDirs: ['${PLUGIN_ROOT}/plugins'],
      mcpServers: { github: { url: 'https://api.example.com/mcp', headers: { Authorization: 'Bearer ${GITHUB_TOKEN}', 'X-Literal': '$${NOT_EXPANDED}' } } },
    }),
  });
  const config = await loadConfig({ cwd, env: { PUBLIC_NAME: 'mcp.internal', PLUGIN_ROOT: '/srv', GITHUB_TOKEN: 'ghp-123456' } });
  assert.equal(config.host, '127.0.0.1', 'the default, for an unset variable');
  assert.deepEqual(config.allowedHosts, ['localhost', 'mcp.internal']);
  assert.deepEqual(config.pluginDirs, ['/srv/plugins']);
  const [inline] = config.mcpServers;
  assert.deepEqual(inline!.servers, { github: { url: 'https://api.example.com/mcp', headers: { Authorization: 'Bearer ghp-123456', 'X-Literal': '${NOT_EXPANDED}' } } });
  assert.deepEqual(inline!.expanded, [{ path: ['github', 'headers', 'Authorization'], name: 'GITHUB_TOKEN', value: 'ghp-123456' }]);
  assert.deepEqual([...config.substituted].sort(), ['/srv', 'ghp-123456', 'mcp.internal'], 'every value taken from the environment, to be scrubbed');
});

test('YAML config files are expanded too', async () => {
  const cwd = await dirWith({ '.switchboardrc.yaml': 'host: ${BIND_HOST}\nallowedHosts: ["${env:PUBLIC_NAME}"]\n' });
  const config = await loadConfig({ cwd, env: { BIND_HOST: '::1', PUBLIC_NAME: 'mcp.internal' } });
  assert.equal(config.host, '::1');
  assert.deepEqual(config.allowedHosts, ['mcp.internal']);
});

test('an unset variable in the config file stops start-up, naming the file and the key path', async () => {
  const cwd = await dirWith({
    'switchboard.config.json': JSON.stringify({ mcpServers: { github: { url: 'https://h/mcp', headers: { Authorization: 'Bearer ${GITHUB_TOKEN}' } } } }),
  });
  await assert.rejects(loadConfig({ cwd, env: { GITHUB_TOKEN: undefined } }), (error: Error) => {
    assert.equal(
      error.message,
      `config file switchboard.config.json: key "mcpServers.github.headers.Authorization": environment variable GITHUB_TOKEN is not set (use \${GITHUB_TOKEN:-default} for a default)`,
    );
    return true;
  });
});

test('a malformed ${ in the config file is an error naming the key; unknown keys still get a suggestion', async () => {
  const malformed = await dirWith({ 'switchboard.config.json': JSON.stringify({ allowedHosts: ['localhost', '${PUBLIC NAME}'] }) });
  await assert.rejects(loadConfig({ cwd: malformed, env: {} }), /switchboard\.config\.json: key "allowedHosts\.1": "\$\{PUBLIC NAME\}" is not a variable reference/);
  const unterminated = await dirWith({ 'switchboard.config.json': JSON.stringify({ host: '${HOST' }) });
  await assert.rejects(loadConfig({ cwd: unterminated, env: {} }), /key "host": unterminated "\$\{HOST": no closing "\}"/);
  const typo = await dirWith({ 'switchboard.config.json': JSON.stringify({ hots: '${BIND_HOST}' }) });
  await assert.rejects(loadConfig({ cwd: typo, env: { BIND_HOST: '127.0.0.1' } }), /unknown key "hots" \(did you mean "host"\?\)/);
});

test('a value from the environment that fails its check is not quoted back in the error', async () => {
  const cwd = await dirWith({ 'switchboard.config.json': JSON.stringify({ logLevel: '${LEVEL}' }) });
  await assert.rejects(loadConfig({ cwd, env: { LEVEL: 'secret-level-value' } }), (error: Error) => {
    assert.match(error.message, /switchboard\.config\.json: key "logLevel"/);
    assert.doesNotMatch(error.message, /secret-level-value/);
    return true;
  });
});

test('per-plugin policies are read by prefix, from the file or as JSON from the environment', async () => {
  const plugins = {
    github: { required: true, timeoutMs: 5000, tools: { allow: ['read_*'], deny: ['read_secrets'], rename: { read_file: 'cat' }, descriptions: { cat: 'Reads.' } }, forwardHeaders: ['Authorization', 'x-tenant-*'], headers: { 'X-Team': 'core' } },
    old: { enabled: false },
    '': { resources: { deny: ['file:///etc/**'] } },
  };
  const fromFile = await loadConfig({ cwd: await dirWith({ 'switchboard.config.json': JSON.stringify({ plugins }) }), env: {} });
  assert.deepEqual(fromFile.plugins, plugins);
  const fromEnv = await loadConfig({ cwd: await dirWith({}), env: { SWITCHBOARD_PLUGINS: JSON.stringify({ old: { enabled: false } }) } });
  assert.deepEqual(fromEnv.plugins, { old: { enabled: false } });
  assert.deepEqual((await loadConfig({ cwd: await dirWith({}), env: {} })).plugins, {}, 'no policies by default');
});

test('a misspelt key in a plugin policy is an error naming plugins.<prefix>.<key>, with a suggestion', async () => {
  const problem = async (plugins: unknown) => {
    const cwd = await dirWith({ 'switchboard.config.json': JSON.stringify({ plugins }) });
    const error = await loadConfig({ cwd, env: {} }).then(() => assert.fail('the config was accepted'), (e: Error) => e);
    return error.message;
  };
  assert.match(await problem({ github: { timeoutMS: 10 } }), /unknown key "plugins\.github\.timeoutMS" \(did you mean "timeoutMs"\?\)/);
  assert.match(await problem({ github: { tools: { alow: ['x'] } } }), /unknown key "plugins\.github\.tools\.alow" \(did you mean "allow"\?\)/);
  assert.match(await problem({ github: { resources: { rename: {} } } }), /unknown key "plugins\.github\.resources\.rename"/);
  assert.match(await problem({ github: { enabled: 'no' } }), /key "plugins\.github\.enabled": /);
  assert.match(await problem({ 'my server': {} }), /key "plugins\["my server"\]": is not a plugin prefix/);
  assert.match(await problem({ github: { tools: { rename: { a: 'same', b: 'same' } } } }), /key "plugins\.github\.tools\.rename": "a" and "b" are both renamed to "same"/);
  assert.match(await problem({ github: { enabled: false, required: true } }), /key "plugins\.github\.required": a plugin that is not enabled cannot be required/);
  await assert.rejects(
    loadConfig({ cwd: await dirWith({}), env: { SWITCHBOARD_PLUGINS: JSON.stringify({ github: { tols: {} } }) } }),
    /environment variable SWITCHBOARD_PLUGINS: unknown key "plugins\.github\.tols" \(did you mean "tools"\?\)/,
  );
});

test('forwarding or setting hop-by-hop, transport or MCP protocol headers is refused, naming the key', async () => {
  const problem = async (policy: unknown) => {
    const cwd = await dirWith({ 'switchboard.config.json': JSON.stringify({ plugins: { github: policy } }) });
    return loadConfig({ cwd, env: {} }).then(() => assert.fail(`accepted ${JSON.stringify(policy)}`), (e: Error) => e.message);
  };
  for (const name of ['Connection', 'keep-alive', 'Transfer-Encoding', 'Upgrade', 'TE', 'Trailer', 'Proxy-Authorization', 'Host', 'Content-Length', 'Mcp-Session-Id', 'MCP-Protocol-Version']) {
    assert.match(await problem({ forwardHeaders: ['x-ok', name] }), new RegExp(`key "plugins\\.github\\.forwardHeaders": "${name}" is never forwarded`));
  }
  assert.match(await problem({ headers: { Host: 'evil' } }), /key "plugins\.github\.headers\.Host": "Host" is never set/);
  assert.match(await problem({ forwardHeaders: ['bad header'] }), /"bad header" is not a header name/);
  const accepted = await loadConfig({ cwd: await dirWith({ 'switchboard.config.json': JSON.stringify({ plugins: { github: { forwardHeaders: ['*', 'Authorization'], headers: { Authorization: 'Bearer x' } } } }) }), env: {} });
  assert.deepEqual(accepted.plugins.github?.forwardHeaders, ['*', 'Authorization'], 'a wildcard is accepted: it never matches what may not be forwarded');
});
