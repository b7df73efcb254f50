/**
 * A client attached to a `--listen` trainer from its own process, as a VS Code window is: it
 * takes the writer's seat, pauses the run and then waits, so that a test can kill it (kill -9)
 * and the trainer sees a client vanish without a word, as when that window crashes.
 * `node --import tsx test/process/attacher.ts RUN_DIR` prints "paused STEP" once paused.
 */
import { AttachClient } from "../../src/protocol/link/attachClient";

async function main(runDir: string): Promise<void> {
  const client = await AttachClient.connect(runDir, { write: true, replay: "none" });
  if (!client.writer) throw new Error(`not the writer: ${client.readOnlyReason}`);
  client.onMessage((message) => {
    if (message.type === "paused") console.log(`paused ${message.step}`);
  });
  const ack = await client.send({ type: "pause" });
  if (!ack.ok) throw new Error(`pause refused: ${ack.error}`);
  // Held open until killed.
  setInterval(() => undefined, 60_000);
}

main(process.argv[2]).catch((error) => {
  console.error(error);
  process.exit(1);
});
