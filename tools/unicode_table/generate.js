// Writes the Rust tokenizers library's character classes for every Unicode scalar value as a compact text table,
// the fixture tests/tokenizers/unicode_classes_test.cpp checks ortformers against. Run once, when the pinned Rust
// library changes:
//   cd tools/unicode_table && npm ci && node generate.js > ../../tests/tokenizers/data/rust_unicode_classes.txt
//   node generate.js --cpp > ../../src/tokenizers/unicode_rust_data.inc
// @anush008/tokenizers 0.6.0 is the N-API binding of the Rust crate tokenizers 0.22.2.
//
// Each class is probed through the public component that uses it, on one character (or "a" + c + "a"):
//   clean_removed  BertNormalizer{clean_text}: the character is dropped (NUL, U+FFFD, "control")
//   clean_space    BertNormalizer{clean_text}: the character becomes " " ("whitespace", tab, CR, LF)
//   chinese        BertNormalizer{handle_chinese_chars}: the character is surrounded by spaces
//   whitespace     BertPreTokenizer splits on it and drops it (char::is_whitespace)
//   punctuation    BertPreTokenizer isolates it (ASCII or Unicode punctuation)
//   word           Whitespace pre-tokenizer (\w+|[^\w\s]+) keeps it inside "a_a"
//   numeric        Digits pre-tokenizer isolates it from "a" on both sides (char::is_numeric)
//   mark           StripAccents drops it (combining mark: unicode-normalization's is_combining_mark)
//   bert_nonspacing BertNormalizer{strip_accents} drops it (after NFD: unicode_categories' Mn)
// and, as FNV-1a 64 hashes per block of 4096 code points over the UTF-8 of each character's output followed by a
// 0xFF byte: nfd (NFD normalizer), lowercase (Lowercase normalizer), bert_strip_accents (BertNormalizer with only
// strip_accents: NFD, then combining marks dropped).
// With --cpp it writes, instead, the tables src/tokenizers/unicode.cpp uses for the classes where the Unicode version
// of the Rust crates (unicode_categories, unicode-normalization-alignments, std, onig) differs from utf8proc's.
// Ranges are hex "start-end" (inclusive) or "cp", comma-separated. Surrogates (D800-DFFF) are not scalar values.
'use strict';
const t = require('@anush008/tokenizers');

const clean = t.bertNormalizer({ cleanText: true, handleChineseChars: false, stripAccents: false, lowercase: false });
const chinese = t.bertNormalizer({ cleanText: false, handleChineseChars: true, stripAccents: false, lowercase: false });
const bertPre = t.bertPreTokenizer();
const wsPre = t.whitespacePreTokenizer();
const digits = t.digitsPreTokenizer(false);
const strip = t.stripAccentsNormalizer();
const nfd = t.nfdNormalizer();
const bertStrip = t.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: true, lowercase: false });
const lower = t.lowercase();

const names = ['clean_removed', 'clean_space', 'chinese', 'whitespace', 'punctuation', 'word', 'numeric', 'mark',
  'bert_nonspacing'];
const ranges = Object.fromEntries(names.map((n) => [n, []]));
const add = (name, cp) => {
  const r = ranges[name];
  const last = r[r.length - 1];
  if (last && last[1] === cp - 1) last[1] = cp;
  else r.push([cp, cp]);
};

const FNV_OFFSET = 0xcbf29ce484222325n, FNV_PRIME = 0x100000001b3n, MASK = (1n << 64n) - 1n;
const hashes = { nfd: [], lowercase: [], bert_strip_accents: [] };
let hNfd = FNV_OFFSET, hLower = FNV_OFFSET, hStrip = FNV_OFFSET;
const lowerMap = [];
const feed = (h, s) => {
  for (const b of Buffer.from(s, 'utf8')) h = ((h ^ BigInt(b)) * FNV_PRIME) & MASK;
  return ((h ^ 0xffn) * FNV_PRIME) & MASK;
};

for (let cp = 0; cp <= 0x10ffff; ++cp) {
  const surrogate = cp >= 0xd800 && cp <= 0xdfff;
  if (!surrogate) {
    const c = String.fromCodePoint(cp);
    const cl = clean.normalizeString(c);
    if (cl === '') add('clean_removed', cp);
    else if (cl === ' ') add('clean_space', cp);
    if (chinese.normalizeString(c) !== c) add('chinese', cp);
    const bp = bertPre.preTokenizeString('a' + c + 'a').map((p) => p[0]);
    if (bp.length === 2 && bp[0] === 'a' && bp[1] === 'a') add('whitespace', cp);
    else if (bp.length === 3 && bp[1] === c) add('punctuation', cp);
    const wp = wsPre.preTokenizeString('a' + c + 'a');
    if (wp.length === 1) add('word', cp);
    const dp = digits.preTokenizeString('a' + c + 'a');
    if (dp.length === 3) add('numeric', cp);
    if (strip.normalizeString(c) === '') add('mark', cp);
    hNfd = feed(hNfd, nfd.normalizeString(c));
    const lc = lower.normalizeString(c);
    hLower = feed(hLower, lc);
    if (lc !== c) lowerMap.push([cp, [...lc].map((x) => x.codePointAt(0))]);
    const bs = bertStrip.normalizeString(c);
    if (bs === '') add('bert_nonspacing', cp);
    hStrip = feed(hStrip, bs);
  }
  if ((cp & 0xfff) === 0xfff) {
    hashes.nfd.push(hNfd.toString(16).padStart(16, '0'));
    hashes.lowercase.push(hLower.toString(16).padStart(16, '0'));
    hashes.bert_strip_accents.push(hStrip.toString(16).padStart(16, '0'));
    hNfd = FNV_OFFSET;
    hLower = FNV_OFFSET;
    hStrip = FNV_OFFSET;
  }
}

const hex = (n) => n.toString(16).toUpperCase();
if (process.argv[2] === '--cpp') {
  // The character data of src/tokenizers/unicode_rust_data.inc: the classes whose Unicode version in the Rust crates
  // differs from utf8proc's, and the Lowercase mapping (Rust char::to_lowercase).
  const out = ['// Generated by tools/unicode_table/generate.js --cpp from the Rust tokenizers library 0.22.2',
    '// (npm @anush008/tokenizers 0.6.0). Do not edit: regenerate with the pinned library.'];
  const ranges_of = (name, arr) => {
    out.push(`constexpr Range k${name}[] = {`);
    for (let i = 0; i < arr.length; i += 6)
      out.push('    ' + arr.slice(i, i + 6).map(([a, b]) => `{0x${hex(a)}, 0x${hex(b)}}`).join(', ') + ',');
    out.push('};');
  };
  ranges_of('CleanTextRemoved', ranges.clean_removed);
  ranges_of('Punctuation', ranges.punctuation);
  ranges_of('WordChar', ranges.word);
  ranges_of('Numeric', ranges.numeric);
  ranges_of('CombiningMark', ranges.mark);
  ranges_of('BertNonspacingMark', ranges.bert_nonspacing);
  out.push('constexpr LowercaseMapping kLowercase[] = {');
  for (let i = 0; i < lowerMap.length; i += 4)
    out.push('    ' + lowerMap.slice(i, i + 4).map(([cp, m]) => `{0x${hex(cp)}, ${m.length}, {${m.map((x) => '0x' + hex(x)).join(', ')}}}`).join(', ') + ',');
  out.push('};');
  process.stdout.write(out.join('\n') + '\n');
  process.exit(0);
}
const out = ['# Rust tokenizers 0.22.2 (npm @anush008/tokenizers 0.6.0) character classes; tools/unicode_table/generate.js'];
for (const n of names) out.push(n + ' ' + ranges[n].map(([a, b]) => (a === b ? hex(a) : hex(a) + '-' + hex(b))).join(','));
for (const n of Object.keys(hashes)) out.push(n + '_fnv1a64_per_4096 ' + hashes[n].join(','));
process.stdout.write(out.join('\n') + '\n');
