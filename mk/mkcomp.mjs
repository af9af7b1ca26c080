// node mkcomp.mjs CORE.wasm WORLD.wit WORLD OUT.component.wasm [OUT.embed.wasm] [utf8|utf16]
// Run by mk/testdata.mk (the components rules), from a directory where jco is installed.
// Embeds WORLD's types in the core module (wasm-tools component embed) and makes a
// component of it (wasm-tools component new), with jco's bundled wasm-tools.
import { componentEmbed, componentNew } from '@bytecodealliance/jco';
import { readFile, writeFile } from 'node:fs/promises';
const [core, witFile, world, out, embedOut, enc = 'utf8'] = process.argv.slice(2);
const embedded = await componentEmbed({
  binary: await readFile(core),
  witSource: await readFile(witFile, 'utf8'),
  world,
  stringEncoding: enc,
});
if (embedOut) await writeFile(embedOut, embedded);
await writeFile(out, await componentNew(embedded));
