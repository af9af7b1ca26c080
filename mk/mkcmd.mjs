// node mkcmd.mjs CORE.wasm OUT.component.wasm
// Run by mk/testdata.mk (the WASI 0.2 command rules), from a directory where jco is
// installed. Makes a wasi:cli/command component of a WASI preview1 core module with jco's
// bundled wasm-tools (`wasm-tools component new --adapt`) and the preview1 command adapter jco
// ships (lib/wasi_snapshot_preview1.command.wasm).
import { componentNew } from '@bytecodealliance/jco';
import { readFile, writeFile } from 'node:fs/promises';
const [core, out] = process.argv.slice(2);
const adapter = await readFile('node_modules/@bytecodealliance/jco/lib/wasi_snapshot_preview1.command.wasm');
await writeFile(out, await componentNew(await readFile(core), [['wasi_snapshot_preview1', adapter]]));
