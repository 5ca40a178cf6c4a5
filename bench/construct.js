'use strict';
// How long `new Proclet(fn)` takes (the source boundary runs there): plain functions, Babel's
// output for old targets and tsc's for ES5. PROCLET=<path> times another copy of proclet. `node bench/construct.js [runs]`: the median of
// several runs of 10,000 constructions each, in µs per construction.
const path = require('path');
const babel = require('@babel/core');
const ts = require('typescript');
const { Proclet } = require(process.env.PROCLET || path.join(__dirname, '..'));

const SOURCE = `
exports.fn = async function () {
  const a = await Promise.resolve(20);
  this.send({ ...{ a }, b: 22 });
};`;

function load(code) {
  const module = { exports: {} };
  new Function('exports', 'module', 'require', code)(module.exports, module, require);
  return module.exports.fn;
}

const cases = {
  plain: function () {
    this.send('hello');
    this.close();
  },
  // `_` in the text: the first look at it does not rule it out, the second does (no helper's name).
  'plain, __dirname': function () {
    this.send(require('path').join(__dirname, 'data_file.json'));
  },
  'babel (ie 11)': load(
    babel.transformSync(SOURCE, { configFile: false, babelrc: false, presets: [['@babel/preset-env', { targets: { ie: '11' } }]] }).code,
  ),
  'babel (node 6)': load(
    babel.transformSync(SOURCE, { configFile: false, babelrc: false, presets: [['@babel/preset-env', { targets: { node: '6' } }]] }).code,
  ),
  'tsc (ES5)': load(
    ts.transpileModule(SOURCE, { compilerOptions: { target: ts.ScriptTarget.ES5, module: ts.ModuleKind.CommonJS } }).outputText,
  ),
};

const N = 10000;
const runs = Number(process.argv[2]) || 7;
for (const [name, fn] of Object.entries(cases)) {
  for (let i = 0; i < 1000; i++) new Proclet(fn); // warm-up
  const times = [];
  for (let r = 0; r < runs; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i++) new Proclet(fn);
    times.push(Number(process.hrtime.bigint() - start) / N / 1000);
  }
  times.sort((a, b) => a - b);
  console.log(`${name.padEnd(16)} median ${times[runs >> 1].toFixed(2)} µs  (min ${times[0].toFixed(2)}, max ${times[runs - 1].toFixed(2)})`);
}
