"""Jinja's code generator, changed where jinja2 offers no hook: every loop's items pass
through the sandbox (Sandbox.loop_items), comparisons and slices are weighed, `~` is checked
like `+`, and a removed filter is named at compile time even in a branch not taken."""

from __future__ import annotations

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, operators

REMOVED_FILTERS = {
    "random": "the filter 'random' is not available: a template must render the same SSML "
    "every time",
    "urlize": "the filter 'urlize' is not available: it makes HTML links, not speech",
    # Line breaks are not heard (SSML whitespace is made canonical), and textwrap takes
    # seconds per megabyte at small widths: a pull request's template must not.
    "wordwrap": "the filter 'wordwrap' is not available: line breaks are not spoken",
}


class SandboxCodegen(CodeGenerator):
    """Jinja's code generator with loops counted, comparisons and slices weighed, `~`
    checked and removed filters named."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        literal = nodes.Const(_literal_length(node.body))
        counted = nodes.EnvironmentAttribute("loop_items")
        node.iter = nodes.Call(counted, [node.iter, literal], [], None, None, lineno=node.lineno)
        super().visit_For(node, frame)

    def visit_Compare(self, node: nodes.Compare, frame: Frame) -> None:
        self.write("(environment.weigh(")
        self.visit(node.expr, frame)
        self.write(")")
        for operand in node.ops:
            self.write(f" {operators[operand.op]} environment.weigh(")
            self.visit(operand.expr, frame)
            self.write(")")
        self.write(")")

    def visit_Getitem(self, node: nodes.Getitem, frame: Frame) -> None:
        if not isinstance(node.arg, nodes.Slice):  # jinja2 slices without a hook
            super().visit_Getitem(node, frame)
            return
        self.write("environment.sliced(")
        self.visit(node.node, frame)
        self.write(", slice(")
        for part in (node.arg.start, node.arg.stop, node.arg.step):
            if part is None:
                self.write("None")
            else:
                self.visit(part, frame)
            self.write(", ")
        self.write("))")

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.joined({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_Filter(self, node: nodes.Filter, frame: Frame) -> None:
        if node.name in REMOVED_FILTERS:
            self.fail(REMOVED_FILTERS[node.name], node.lineno)
        super().visit_Filter(node, frame)


def _literal_length(body: list[nodes.Node]) -> int:
    """Characters of template text in a loop body, not counting inner loops and macros
    (which are charged when they run)."""
    total = 0
    stack: list[nodes.Node] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, nodes.TemplateData):
            total += len(node.data)
        elif not isinstance(node, (nodes.For, nodes.Macro, nodes.CallBlock)):
            stack.extend(node.iter_child_nodes())
    return total
