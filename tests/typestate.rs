//! The phase and role rules that are enforced by types: each file in
//! `tests/compile_fail/` is a misuse that must not compile, with the
//! expected compiler message beside it (`TRYBUILD=overwrite` regenerates).

#[test]
fn illegal_sends_do_not_compile() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/compile_fail/*.rs");
}
