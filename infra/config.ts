// CDK context, read and validated once at synth. Every value has a default or a clear error naming
// its key; nothing personal or secret belongs in context.
import type { Node } from 'constructs';

export interface InfraConfig {
  /** Days from disconnect until every item and object of a mailbox is gone (≤ 30: the promise). */
  retentionDays: number;
  /** Days a backup recovery point may live (≤ 365: the promise). */
  backupRetentionDays: number;
  /** Receives before an ingest job goes to the dead-letter queue. */
  maxReceiveCount: number;
}

export class ContextError extends Error {}

export function readInfraConfig(node: Node): InfraConfig {
  return {
    retentionDays: integer(node, 'retentionDays', 30, 1, 30),
    backupRetentionDays: integer(node, 'backupRetentionDays', 365, 1, 365),
    maxReceiveCount: integer(node, 'maxReceiveCount', 5, 1, 100),
  };
}

function integer(node: Node, key: string, fallback: number, min: number, max: number): number {
  const raw: unknown = node.tryGetContext(key);
  if (raw === undefined || raw === null || raw === '') return fallback;
  const value = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ContextError(`CDK context "${key}" must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return value;
}
