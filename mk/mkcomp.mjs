// node mkcomp.mjs CORE.wasm WORLD.wit WORLD OUT.component.wasm [OUT.embed.wasm] [utf8|utf16] [reactor]
// Run by mk/testdata.mk (the components rules), from a directory where jco is installed.
// Embeds WORLD's types in the core module (wasm-tools component embed) and makes a
// component of it (wasm-tools component new), with jco's bundled wasm-tools. With "reactor",
// the core module is a WASI preview1 reactor and jco's preview1 reactor adapter
// (lib/wasi_snapshot_preview1.reactor.wasm) joins it (`component new --adapt`).
import { componentEmbed, componentNew } from '@bytecodealliance/jco';
import { readFile, writeFile } from 'node:fs/promises';
const [core, witFile, world, out, embedOut, enc = 'utf8', adapt = ''] = process.argv.slice(2);
const embedded = await componentEmbed({
  binary: await readFile(core),
  witSource: await readFile(witFile, 'utf8'),
  world,
  stringEncoding: enc || 'utf8',
});
if (embedOut) await writeFile(embedOut, embedded);
const adapters = [];
if (adapt === 'reactor') {
  adapters.push(['wasi_snapshot_preview1',
    await readFile('node_modules/@bytecodealliance/jco/lib/wasi_snapshot_preview1.reactor.wasm')]);
}
await writeFile(out, await componentNew(embedded, adapters.length ? adapters : undefined));
