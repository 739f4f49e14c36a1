/**
 * 2025-era session ids that name the replica holding the session: `<replicaId>.<random UUID>`.
 * Run as several replicas behind a load balancer, a request of a session must reach the replica
 * that holds it (the SDK transport and the backends' sessions live in its memory). With the
 * replica in the id, the balancer routes on the id alone, with no table to share or lose
 * (deploy/haproxy/haproxy.cfg routes on the part before the first dot), and a replica that is
 * handed another replica's session can tell the client which one it was.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/** What a replica id may be: letters, digits, `_` and `-` (no dot: the dot ends it), as HAProxy server names. */
export const REPLICA_ID_PATTERN = /^[A-Za-z0-9_-]{1,63}$/;

/** The default replica id: the host name's first label (a container's or a pod's name), made a valid id. */
export function defaultReplicaId(host = hostname()): string {
  const label = host.split('.')[0]!.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 63);
  return label || 'switchboard';
}

/** A new session id on this replica. */
export function newSessionId(replicaId: string): string {
  return `${replicaId}.${randomUUID()}`;
}

/** The replica a session id names, if it has the `<replicaId>.<uuid>` form. */
export function replicaOf(sessionId: string): string | undefined {
  const dot = sessionId.indexOf('.');
  const replica = dot > 0 ? sessionId.slice(0, dot) : undefined;
  return replica && REPLICA_ID_PATTERN.test(replica) ? replica : undefined;
}
