// The reference side of tests/tokenizers/conformance.sh: encodes each line of
// a file with Hugging Face tokenizers (the native build of @anush008/tokenizers)
// and prints one JSON array of ids per line.
//   node encode.js TOKENIZER.json LINES.txt [--no-special-tokens]
const fs = require("fs");
const { Tokenizer } = require("@anush008/tokenizers");

async function main() {
  const [file, linesFile, flag] = process.argv.slice(2);
  const tokenizer = Tokenizer.fromFile(file);
  const text = fs.readFileSync(linesFile, "utf8");
  const lines = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
  const out = [];
  for (const line of lines) {
    const encoding = await tokenizer.encode(line, null, { addSpecialTokens: flag !== "--no-special-tokens" });
    out.push(JSON.stringify(encoding.getIds()));
  }
  process.stdout.write(out.join("\n") + "\n");
}
main().catch((e) => { console.error(e); process.exit(1); });
