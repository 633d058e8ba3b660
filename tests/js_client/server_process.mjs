// Starts and stops tools/qdrant_test_server for the tests in this folder. The
// binary comes from the QDRANT_TEST_SERVER environment variable (run.sh sets
// it from its argument).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

// Starts the server on a free port; resolves with the process and its URL,
// the first line it prints.
export async function startServer(args = []) {
  const binary = process.env.QDRANT_TEST_SERVER;
  if (!binary) throw new Error('set QDRANT_TEST_SERVER to the qdrant-test-server binary');
  const proc = spawn(binary, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout });
  const [first] = await Promise.race([
    once(lines, 'line'),
    once(proc, 'exit').then(([code]) => {
      throw new Error(`qdrant-test-server exited with ${code} before printing its URL`);
    }),
  ]);
  return { proc, url: first.trim() };
}

// SIGTERM; resolves with the exit code.
export async function stopServer(proc) {
  const exited = once(proc, 'exit');
  proc.kill('SIGTERM');
  const [code] = await exited;
  return code;
}
