//! Turns a worker function's source into the script the child runs: the embedded child runtime
//! followed by a call that hands it the worker.

/// The child-side runtime (`runtime/child.js`), compiled into the addon so that the parent and
/// the child always speak the same protocol version.
pub const RUNTIME: &str = include_str!("../runtime/child.js");

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

/// The complete script for a worker. The source is placed inside a factory whose parameters give
/// the worker a `require`, `__filename` and `__dirname` rooted at the file that created the
/// Proclet; the runtime calls the factory with `this` bound to the child context, which is what
/// makes `this.send` work in arrow functions too.
pub fn worker_script(source: &str, form: SourceForm) -> String {
  let (open, close) = match form {
    SourceForm::Expression => ("(", ")"),
    SourceForm::Method => ("({", "})"),
  };
  let mut script = String::with_capacity(RUNTIME.len() + source.len() + 160);
  script.push_str(RUNTIME);
  script.push_str("\n__proclet_runtime.start(function (require, __filename, __dirname) {\nreturn ");
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

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn wraps_an_expression() {
    let script = worker_script("() => this.send(1)", SourceForm::Expression);
    assert!(script.starts_with(RUNTIME));
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
}
