// d2l-rs patch 9 (vendor/evcxr/PATCHES.md): what rust-analyzer loads to type a cell's
// variables.
//
// evcxr asks rust-analyzer for the type of each new `let` variable, and writes that type into
// the next cell's code. A cell can only name the crates it depends on and what they re-export;
// the analyzer needs those, and the crates their signatures use. With every crate of the
// build (~190 for the book's `d2l`: TLS, PNG, SVG, zip, …) the first question took ~15 s,
// most of it building name tables of crates no cell's types come from.

use ra_ap_base_db::SourceRoot;
use ra_ap_paths::AbsPath;
use ra_ap_paths::AbsPathBuf;
use ra_ap_project_model::CargoWorkspace;
use ra_ap_project_model::Package;
use ra_ap_project_model::PackageRoot;
use ra_ap_project_model::ProjectWorkspace;
use ra_ap_project_model::ProjectWorkspaceKind;
use ra_ap_project_model::TargetKind;
use ra_ap_syntax::ast;
use ra_ap_syntax::ast::HasModuleItem;
use ra_ap_syntax::ast::HasVisibility;
use ra_ap_vfs as ra_vfs;
use std::collections::HashSet;

/// The standard library's crates that a cell can name. The others (`compiler_builtins`,
/// `test`, `proc_macro`, std's own dependencies such as `libc` and `hashbrown`) and the parts
/// of these three kept in other directories (the SIMD intrinsics behind `core::arch` and
/// `core::simd`, std's backtrace code) stay out: a third of the standard library's analysis.
const SYSROOT_CRATES: &[&str] = &["core", "alloc", "std"];

/// The package roots to load: the standard library, the crates a cell can name (the cell
/// crate, its dependencies, and the crates those re-export, transitively) and their direct
/// dependencies, whose traits and types their signatures use. Everything else stays out of
/// the crate graph.
pub(crate) fn roots_to_load(workspace: &ProjectWorkspace) -> Vec<PackageRoot> {
    let mut roots = workspace.to_roots();
    let ProjectWorkspaceKind::Cargo { cargo, .. } = &workspace.kind else {
        return roots;
    };
    let to_load: HashSet<&AbsPath> = packages_to_load(cargo)
        .into_iter()
        .map(|pkg| cargo[pkg].manifest.parent())
        .collect();
    let sysroot = workspace.sysroot.rust_lib_src_root();
    roots.retain_mut(|root| {
        let Some(dir) = root.include.first().cloned() else {
            return false;
        };
        if Some(dir.as_path()) == sysroot {
            root.include = SYSROOT_CRATES.iter().map(|name| dir.join(name)).collect();
            return true;
        }
        to_load.contains(dir.as_path())
    });
    roots
}

/// One source root per package root, in the order of `roots`, plus one for files outside them
/// (as rust-analyzer's own `load_cargo` does). Library roots (the standard library and
/// registry crates, not path dependencies) do not change, so the analysis marks what it derives
/// from them as durable: a new cell's source no longer revalidates their name tables.
pub(crate) fn source_roots(roots: &[PackageRoot], vfs: &ra_vfs::Vfs) -> Vec<SourceRoot> {
    let mut builder = ra_vfs::file_set::FileSetConfig::builder();
    for root in roots {
        builder.add_file_set(root.include.iter().cloned().map(Into::into).collect());
    }
    builder
        .build()
        .partition(vfs)
        .into_iter()
        .enumerate()
        .map(|(i, file_set)| match roots.get(i) {
            Some(root) if !root.is_local => SourceRoot::new_library(file_set),
            _ => SourceRoot::new_local(file_set),
        })
        .collect()
}

/// The crates a cell can name and their direct dependencies (not build or dev ones). The
/// signatures of the first use the second: `tch::Tensor::ones(size: impl IntList, …)` takes
/// torch-sys's `IntList`, which `tch` does not re-export, and without torch-sys the analyzer
/// types `shape` in `let shape = [2, 3, 4]; Tensor::ones(shape, …)` as `[i32; 3]`.
fn packages_to_load(cargo: &CargoWorkspace) -> HashSet<Package> {
    let nameable = nameable_packages(cargo);
    let mut to_load = nameable.clone();
    for &pkg in &nameable {
        // `DepKind` is not exported by ra_ap_project_model; an unknown kind counts as normal.
        to_load.extend(
            cargo[pkg]
                .dependencies
                .iter()
                .filter(|dep| !matches!(format!("{:?}", dep.kind).as_str(), "Build" | "Dev"))
                .map(|dep| dep.pkg),
        );
    }
    to_load
}

/// The workspace members (the cell crate), their dependencies, and every crate re-exported by
/// a crate already in the set.
fn nameable_packages(cargo: &CargoWorkspace) -> HashSet<Package> {
    let members: Vec<Package> = cargo
        .packages()
        .filter(|&pkg| cargo[pkg].is_member)
        .collect();
    let mut nameable: HashSet<Package> = members.iter().copied().collect();
    let mut queue: Vec<Package> = members
        .iter()
        .flat_map(|&pkg| cargo[pkg].dependencies.iter().map(|dep| dep.pkg))
        .collect();
    while let Some(pkg) = queue.pop() {
        if !nameable.insert(pkg) {
            continue;
        }
        let reexported = library_root(cargo, pkg)
            .and_then(|root| std::fs::read_to_string(root).ok())
            .map(|source| reexported_crates(&source))
            .unwrap_or_default();
        queue.extend(
            cargo[pkg]
                .dependencies
                .iter()
                .filter(|dep| reexported.contains(&dep.name.replace('-', "_")))
                .map(|dep| dep.pkg),
        );
    }
    nameable
}

fn library_root(cargo: &CargoWorkspace, pkg: Package) -> Option<&AbsPathBuf> {
    cargo[pkg]
        .targets
        .iter()
        .find(|&&target| matches!(cargo[target].kind, TargetKind::Lib { .. }))
        .map(|&target| &cargo[target].root)
}

/// The first path segments of a crate root's public `use` items and `pub extern crate`s: the
/// crates it may re-export (`pub use tch;`, `pub use d2l::*;`, `pub use a as b;`). Modules
/// of the crate itself (`crate`, `self`, …) come out too; they match no dependency.
fn reexported_crates(crate_root_source: &str) -> HashSet<String> {
    let file = ra_ap_syntax::SourceFile::parse(crate_root_source, crate::rust_analyzer::EDITION);
    let mut names = HashSet::new();
    for item in file.tree().items() {
        match item {
            ast::Item::Use(use_item) if is_plain_pub(&use_item) => {
                let mut trees: Vec<ast::UseTree> = use_item.use_tree().into_iter().collect();
                while let Some(tree) = trees.pop() {
                    match tree.path() {
                        Some(path) => names.extend(first_segment(&path)),
                        None => trees.extend(
                            tree.use_tree_list()
                                .into_iter()
                                .flat_map(|list| list.use_trees()),
                        ),
                    }
                }
            }
            ast::Item::ExternCrate(extern_crate) if is_plain_pub(&extern_crate) => {
                names.extend(extern_crate.name_ref().map(|n| n.text().to_string()));
            }
            _ => {}
        }
    }
    names
}

fn first_segment(path: &ast::Path) -> Option<String> {
    let first = path.first_segment()?;
    first.name_ref().map(|n| n.text().to_string())
}

/// Plain `pub`: `pub(crate)` and friends re-export nothing to a cell.
fn is_plain_pub(item: &impl HasVisibility) -> bool {
    item.visibility()
        .is_some_and(|v| v.pub_token().is_some() && v.visibility_inner().is_none())
}

#[cfg(test)]
mod test {
    use super::reexported_crates;

    #[test]
    fn reexports_are_read_from_public_uses() {
        let names = reexported_crates(
            "pub use tch;\npub use d2l::*;\npub use d2l_protocol as protocol;\n\
             pub use {image, serde_json::Value};\npub extern crate half;\n\
             use private_dep;\npub(crate) use internal;\nmod m { pub use nested; }\n",
        );
        for name in ["tch", "d2l", "d2l_protocol", "image", "serde_json", "half"] {
            assert!(names.contains(name), "{name} missing from {names:?}");
        }
        for name in ["private_dep", "internal", "nested"] {
            assert!(!names.contains(name), "{name} should not be in {names:?}");
        }
    }
}
