//! The script a child runs: the child runtime (`runtime/*.js` and the modules it shares with the
//! parent, `lib/shared/*.js`), bundled into one file with a generated `lib/shared/protocol.js`
//! that carries the numbering of [`crate::protocol::kind`], followed by the worker.
//!
//! The bundle is compiled into the addon, so the parent and the child always speak the same
//! protocol version, and a child needs nothing on disk but its cached script.

use std::fmt::Write;
use std::sync::OnceLock;

use crate::protocol::{ChannelEvent, FrameKind, HEADER_LEN, HIGH_WATER_MARK, MAX_PAYLOAD};

/// `(path, text)` of a file of this repository, compiled in.
macro_rules! bundled {
  ($path:literal) => {
    ($path, include_str!(concat!("../../", $path)))
  };
}

/// The modules of the child runtime, by their path in the repository. `runtime/index.js` is the
/// entry; `require('./x')` between them resolves inside the bundle, anything else is Node's.
const MODULES: &[(&str, &str)] = &[
  bundled!("lib/shared/errors.js"),
  bundled!("lib/shared/thrown.js"),
  bundled!("lib/shared/packed.js"),
  bundled!("lib/shared/binary.js"),
  bundled!("lib/shared/structured.js"),
  bundled!("lib/shared/codec.js"),
  bundled!("lib/shared/emitter.js"),
  bundled!("lib/shared/calls.js"),
  bundled!("runtime/writer.js"),
  bundled!("runtime/reader.js"),
  bundled!("runtime/lifetime.js"),
  bundled!("runtime/coverage.js"),
  bundled!("runtime/script.js"),
  bundled!("runtime/handlers.js"),
  bundled!("runtime/context.js"),
  bundled!("runtime/index.js"),
];

/// The one module generated rather than read: in the parent, `lib/shared/protocol.js` reads the
/// same numbers from the addon's exports.
const PROTOCOL_MODULE: &str = "lib/shared/protocol.js";

/// A CommonJS loader for the bundled modules, in the style of any bundler's prelude.
const LOADER: &str = r#"  const path = require('path');
  const cache = new Map();
  function load(key) {
    let module = cache.get(key);
    if (module === undefined) {
      module = { exports: {} };
      cache.set(key, module);
      modules[key].call(module.exports, module, module.exports, requireFrom(path.posix.dirname(key)));
    }
    return module.exports;
  }
  function requireFrom(dir) {
    return (specifier) => {
      if (!specifier.startsWith('.')) return require(specifier);
      const key = path.posix.join(dir, specifier.endsWith('.js') ? specifier : `${specifier}.js`);
      if (!Object.prototype.hasOwnProperty.call(modules, key)) throw new Error(`proclet runtime: no module ${key}`);
      return load(key);
    };
  }
  return load('runtime/index.js');
"#;

/// The generated `lib/shared/protocol.js`: the same shape as the parent's (napi exports).
pub fn protocol_module() -> String {
  let mut out = String::from("module.exports = Object.freeze({\n  FrameKind: Object.freeze({");
  for kind in FrameKind::ALL {
    let _ = write!(out, " {}: {},", kind.name(), kind as u8);
  }
  out.push_str(" }),\n  ChannelEvent: Object.freeze({");
  for event in ChannelEvent::ALL {
    let name = event.name();
    let _ = write!(out, " {}: {},", name, event as u16);
  }
  let _ = write!(
    out,
    " }}),\n  HEADER_LEN: {HEADER_LEN},\n  MAX_PAYLOAD: {MAX_PAYLOAD},\n  HIGH_WATER_MARK: {HIGH_WATER_MARK},\n}});\n"
  );
  out
}

/// The runtime bundle, built once per process.
pub fn runtime_bundle() -> &'static str {
  static BUNDLE: OnceLock<String> = OnceLock::new();
  BUNDLE.get_or_init(|| {
    let protocol = protocol_module();
    let mut out = String::with_capacity(64 * 1024);
    out
      .push_str("// proclet child runtime (bundled by the addon from runtime/ and lib/shared/).\n");
    out.push_str("const __proclet_runtime = (function () {\n  const modules = {\n");
    let all = std::iter::once((PROTOCOL_MODULE, protocol.as_str())).chain(MODULES.iter().copied());
    // Each module is wrapped in parentheses: V8 then compiles it with the script instead of
    // pre-parsing it now and parsing it again when it is required (every one is, at start-up).
    for (key, text) in all {
      let _ = write!(
        out,
        "  {key:?}: (function (module, exports, require) {{\n{text}\n  }}),\n"
      );
    }
    out.push_str("  };\n");
    out.push_str(LOADER);
    out.push_str("})();\n");
    out
  })
}

/// How a function's source text becomes a function again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceForm {
  /// The source is an expression on its own: `function () {}`, `async () => {}`, ...
  Expression,
  /// Method shorthand (`work() {}`, `async *gen() {}`): valid only inside an object literal.
  Method,
}

impl SourceForm {
  pub fn is_method(self) -> bool {
    self == SourceForm::Method
  }
}

/// The complete script for a worker: the runtime bundle, then the worker inside a factory whose
/// parameters give it a `require`, `__filename` and `__dirname` rooted at the file that created
/// the Proclet. The runtime calls the factory (with `this` bound to the child context, which is
/// what makes `this.send` work in arrow functions) once the parent's `Init` frame has arrived.
pub fn worker_script(source: &str, form: SourceForm) -> String {
  let runtime = runtime_bundle();
  let (open, close) = match form {
    SourceForm::Expression => ("(", ")"),
    SourceForm::Method => ("({", "})"),
  };
  let mut script = String::with_capacity(runtime.len() + source.len() + 160);
  script.push_str(runtime);
  script.push_str("__proclet_runtime.start(function (require, __filename, __dirname) {\nreturn ");
  script.push_str(open);
  script.push('\n');
  script.push_str(source);
  // The newline keeps a trailing line comment in the source from swallowing the closer.
  script.push('\n');
  script.push_str(close);
  script.push_str(";\n}, ");
  script.push_str(if form.is_method() { "true" } else { "false" });
  script.push_str(");\n");
  script
}

/// The script for a script worker (a module file the runtime loads itself, named in the `Init`
/// frame): the runtime bundle alone, started without a factory. One cache file serves every
/// script worker, and the user's module runs from its own file (its own stack traces and
/// coverage).
pub fn script_runner() -> String {
  let runtime = runtime_bundle();
  let mut script = String::with_capacity(runtime.len() + 40);
  script.push_str(runtime);
  script.push_str("__proclet_runtime.start(null, false);\n");
  script
}

/// The script of a spare (warm start): the runtime alone. It boots, says READY and waits in the
/// handshake; the worker's source arrives in INIT (`worker`) when a `run()` adopts it.
pub fn spare_script() -> &'static str {
  static SCRIPT: OnceLock<String> = OnceLock::new();
  SCRIPT.get_or_init(|| {
    format!(
      "{}__proclet_runtime.start(null, false, true);\n",
      runtime_bundle()
    )
  })
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_script_runner_has_no_factory() {
    let script = script_runner();
    assert!(script.starts_with(runtime_bundle()));
    assert!(script.ends_with("__proclet_runtime.start(null, false);\n"));
  }

  #[test]
  fn wraps_an_expression() {
    let script = worker_script("() => this.send(1)", SourceForm::Expression);
    assert!(script.starts_with(runtime_bundle()));
    assert!(script.ends_with(
      "__proclet_runtime.start(function (require, __filename, __dirname) {\nreturn (\n() => this.send(1)\n);\n}, false);\n"
    ));
  }

  #[test]
  fn wraps_a_method_in_an_object_literal() {
    let script = worker_script("work() {}", SourceForm::Method);
    assert!(script.ends_with("return ({\nwork() {}\n});\n}, true);\n"));
  }

  #[test]
  fn different_sources_give_different_scripts() {
    assert_ne!(
      worker_script("() => 1", SourceForm::Expression),
      worker_script("() => 2", SourceForm::Expression)
    );
  }

  #[test]
  fn the_prelude_carries_every_kind_and_limit() {
    let module = protocol_module();
    for kind in FrameKind::ALL {
      assert!(module.contains(&format!(" {}: {},", kind.name(), kind as u8)));
    }
    assert!(module.contains(" Exit: 258,"));
    assert!(module.contains(&format!("MAX_PAYLOAD: {MAX_PAYLOAD},")));
  }

  #[test]
  fn every_bundled_module_is_in_the_bundle_once() {
    let bundle = runtime_bundle();
    for (key, _) in MODULES {
      assert_eq!(
        bundle.matches(&format!("{key:?}: (function")).count(),
        1,
        "{key}"
      );
    }
    assert!(bundle.contains("\"lib/shared/protocol.js\": (function"));
  }
}
