/**
 * How `auth` is checked in the config (a file, `SWITCHBOARD_AUTH` as JSON or `none`). A JWT
 * setup must say which issuer and audience its tokens carry: a token meant for another service
 * must not open this one.
 */
import { z } from 'zod';

const globs = z.array(z.string());
const oneOrMore = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const token = z.union([
  z.string().min(16, 'a token must be at least 16 characters (use a random one: openssl rand -hex 32)'),
  z.strictObject({
    token: z.string().min(16, 'a token must be at least 16 characters (use a random one: openssl rand -hex 32)'),
    name: z.string().min(1).optional(),
    plugins: globs.optional(),
  }),
]);

const jwt = z.strictObject({
  jwksUrl: z.url(),
  issuer: oneOrMore,
  audience: oneOrMore.optional(),
  clockToleranceSec: z.number().int().min(0).optional(),
  principalClaim: z.string().min(1).optional(),
  scopes: z.record(z.string().min(1), globs).optional(),
  algorithms: z.array(z.string().min(1)).optional(),
  jwksCooldownMs: z.number().int().min(0).optional(),
});

const settings = z
    .strictObject({
      tokens: z.array(token).optional(),
      jwt: jwt.optional(),
      resource: z.url().optional(),
      authorizationServers: z.array(z.url()).optional(),
    })
    .refine((auth) => (auth.tokens?.length ?? 0) > 0 || auth.jwt, { message: 'auth needs "tokens" or "jwt" (or set auth to "none")' })
    .refine((auth) => !auth.jwt || auth.jwt.audience !== undefined || auth.resource !== undefined, {
      message: 'auth.jwt needs "audience" (or auth.resource, which is then the audience): tokens must be checked to be meant for this proxy',
    })
    .transform((auth) => ({
      ...auth,
      tokens: auth.tokens?.map((t) => (typeof t === 'string' ? { token: t } : t)),
      jwt: auth.jwt && { ...auth.jwt, audience: auth.jwt.audience ?? auth.resource! },
    }));

/** `"none"`, or the settings; their own errors are reported as they are (a union would only say "Invalid input"). */
export const authSchema = z.unknown().transform((value, ctx) => {
  if (value === 'none') return 'none' as const;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: 'must be "none" or an object with "tokens" and/or "jwt"' });
    return z.NEVER;
  }
  const result = settings.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return z.NEVER;
});
