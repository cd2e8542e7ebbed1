// A local server in a child process of its own (s3rver, dynalite): the child runs `script` (an ES
// module given inline), prints `{"port": N}` once it listens on 127.0.0.1, and stops on SIGTERM or when
// its stdin closes — so it never outlives its parent, even one that was killed.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ChildServer {
  port: number;
  stop(): Promise<void>;
}

export async function startChildServer(name: string, script: string, options: { env: Record<string, string>; nodeArgs?: string[] }): Promise<ChildServer> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--input-type=module', '-e', script], {
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    // Port 0 in the child: the system picks a free port, so parallel test files never collide.
    const port = await new Promise<number>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      lines.once('line', (line) => {
        lines.close();
        resolve((JSON.parse(line) as { port: number }).port);
      });
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`${name} exited before it listened (code ${code})`)));
    });
    return { port, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
