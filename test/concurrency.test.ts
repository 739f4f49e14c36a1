/**
 * Routing under concurrency: many calls in flight in one session and across sessions, each
 * making its backend ask the client something (elicitation or sampling) answered with a
 * distinct value. Every call must get its own answer, and no session may see another's requests.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { FIXTURES, connect, startProxy, startRemoteFixture, textOf, type Connected, type RunningProcess, type RunningProxy } from './helpers.ts';

const ROUNDS = 20;
const SESSIONS = 4;
const CALLS_PER_SESSION = 8;

let remote: RunningProcess;
let proxy: RunningProxy;

before(async () => {
  remote = await startRemoteFixture();
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-concurrency-'));
  await mkdir(join(dir, 'remote'));
  await writeFile(join(dir, 'remote', 'index.js'), `export default { prefix: 'remote', remote: { url: ${JSON.stringify(remote.url)} } };\n`);
  proxy = await startProxy({ pluginDirs: [join(FIXTURES, 'plugins'), dir] });
});

after(async () => {
  await proxy?.close();
  await remote?.stop();
});

const jitter = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 15));

/** A client session tagged `tag` that answers every question with `tag` and the question, and remembers what it was asked. */
async function taggedSession(tag: string): Promise<Connected & { asked: string[] }> {
  const asked: string[] = [];
  const connected = await connect(proxy.url, { sampling: {}, elicitation: { form: {} } }, (client) => {
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request.params.message);
      await jitter();
      return { action: 'accept', content: { answer: `${tag} answers ${request.params.message}` } };
    });
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      const content = request.params.messages[0]!.content;
      const text = (Array.isArray(content) ? content[0] : content)?.type === 'text' ? ((Array.isArray(content) ? content[0] : content) as { text: string }).text : '?';
      asked.push(text);
      await jitter();
      return { role: 'assistant', model: tag, content: { type: 'text', text: `${tag} samples ${text}` } };
    });
  });
  return { ...connected, asked };
}

test(`${ROUNDS} rounds of ${SESSIONS} sessions x ${CALLS_PER_SESSION} concurrent calls, in-process and remote: every answer reaches its own call`, async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const sessions = await Promise.all(Array.from({ length: SESSIONS }, (_, s) => taggedSession(`r${round}s${s}`)));
    try {
      await Promise.all(
        sessions.flatMap((session, s) =>
          Array.from({ length: CALLS_PER_SESSION }, async (_, c) => {
            const tag = `r${round}s${s}`;
            const prefix = c % 2 === 0 ? 'fid' : 'remote';
            const question = `${tag}-call${c}`;
            const result =
              c % 4 < 2
                ? await session.client.callTool({ name: `${prefix}_ask`, arguments: { question } })
                : await session.client.callTool({ name: `${prefix}_sample`, arguments: { prompt: question } });
            const expected = c % 4 < 2 ? `${tag} answers ${question}` : `${tag} samples ${question}`;
            assert.equal(textOf(result), expected, `round ${round}: call ${c} of session ${s} (${prefix}) got someone else's answer`);
          }),
        ),
      );
      for (const [s, session] of sessions.entries()) {
        const tag = `r${round}s${s}`;
        assert.equal(session.asked.length, CALLS_PER_SESSION, `round ${round}: session ${s} was asked ${session.asked.length} questions`);
        for (const question of session.asked) {
          assert.ok(question.startsWith(`${tag}-`), `round ${round}: session ${s} was asked another session's question "${question}"`);
        }
      }
    } finally {
      await Promise.all(sessions.map((session) => session.close()));
    }
  }
});
