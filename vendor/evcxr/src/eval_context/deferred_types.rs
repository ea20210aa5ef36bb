// d2l-rs patch 9 (vendor/evcxr/PATCHES.md): a `let` cell that arrives while rust-analyzer is
// still warming up runs without waiting for it.
//
// A variable's type is needed by the cells after the one that defines it (they load the
// variable from the store under that type), not by the defining cell itself: that cell can
// store the variable with the type left to rustc (`put_variable::<_>`). So while the analysis
// warm-up runs, a `let` cell is compiled and run at once, and its source is kept; the next
// cell (or completion, or hover) first waits for the warm-up and asks the analyzer for the
// types. Only the first `let` cell of a context can be deferred: resolving waits for the
// warm-up, and later cells find the analysis ready.

use super::ContextState;
use super::EvalContext;
use super::VariableMoveState;
use super::VariableState;
use super::replace_reserved_words_in_type;
use crate::errors::Error;
use crate::rust_analyzer::RustAnalyzer;
use crate::rust_analyzer::TypeName;

/// The type written for a variable whose type is not known yet: rustc infers it.
const DEFERRED_TYPE: &str = "_";

/// The generated function whose top-level `let`s define a cell's variables.
const WRAPPER: &str = "evcxr_analysis_wrapper";

impl EvalContext {
    /// If the analyzer is still warming up, records the variables of `source` (a cell's
    /// analysis code) with deferred types and returns true.
    pub(super) fn defer_variable_types(&self, state: &mut ContextState, source: &str) -> bool {
        if !self.analyzer.is_warming_up() {
            return false;
        }
        for (name, is_mut) in RustAnalyzer::top_level_let_names(source, WRAPPER) {
            if name == "evcxr_variable_store" {
                continue;
            }
            state.variable_states.insert(
                name,
                VariableState {
                    type_name: DEFERRED_TYPE.to_owned(),
                    is_mut,
                    move_state: VariableMoveState::New,
                    definition_span: None,
                },
            );
        }
        state.deferred_types_source = Some(source.to_owned());
        true
    }

    /// Gives the variables of a deferred cell their types (waiting for the warm-up). A
    /// variable whose type the analyzer cannot name is dropped, and the error says so: it
    /// is the error the defining cell would have shown.
    pub(crate) fn resolve_deferred_variable_types(&mut self) -> Result<(), Error> {
        let Some(source) = self.committed_state.deferred_types_source.take() else {
            return Ok(());
        };
        let analyzer = self.analyzer.get()?;
        analyzer.set_source(source)?;
        let types = analyzer.top_level_variables(WRAPPER);
        let mut lost = Vec::new();
        let state = &mut self.committed_state;
        for variables in [
            &mut state.variable_states,
            &mut state.stored_variable_states,
        ] {
            variables.retain(|name, variable| {
                if variable.type_name != DEFERRED_TYPE {
                    return true;
                }
                match types.get(name).map(|info| &info.type_name) {
                    Some(TypeName::Named(type_name)) => {
                        variable.type_name = replace_reserved_words_in_type(type_name);
                        true
                    }
                    _ => {
                        lost.push(name.clone());
                        false
                    }
                }
            });
        }
        if lost.is_empty() {
            return Ok(());
        }
        lost.sort();
        lost.dedup();
        Err(Error::Message(format!(
            "Couldn't automatically determine the type of {} set by the previous cell, so it \
             was not kept. Give it an explicit type (or box a closure: `let f: Box<dyn Fn()> = \
             Box::new(|| ...);`) and run that cell again.",
            lost.iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}
