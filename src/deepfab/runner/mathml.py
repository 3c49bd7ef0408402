"""TeX math in markdown to MathML, so a lecture page renders its equations with no network.

``deepfab run`` (every lecture) exports the executed notebook as one HTML page; browsers render
MathML natively, so the page needs no MathJax. This module finds the math in a markdown text
(``$...$``, ``$$...$$`` and bare ``\\begin{equation|align|gather|multline}`` blocks), skipping
fenced code, inline code spans and escaped dollars (``\\$``), and converts each formula with
``latex2mathml``. A formula that cannot be converted is shown as its TeX source in a
``<code class="tex-fallback">`` span and reported, never raised.

    >>> html, ok = tex_to_mathml(r"\\mathbb{E}[x]", display=False)
    >>> text, spans = protect_math("cost $x^2$ costs \\\\$5")   # math swapped for tokens

References:
    MathML Core (W3C), https://www.w3.org/TR/mathml-core/ -- what Chromium and Firefox render.
    Unicode Mathematical Alphanumeric Symbols, U+1D400-U+1D7FF (styled letters as characters).
"""
from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass, field

from latex2mathml.converter import convert as _l2m

# TeX that latex2mathml lacks or renders poorly, rewritten to what it does well.
_REWRITES = [
    (re.compile(r"\\(begin|end)\{aligned\}"), r"\\\1{align*}"),
    (re.compile(r"\\(begin|end)\{(?:gathered|gather\*?)\}"),
     lambda m: "\\begin{array}{c}" if m.group(1) == "begin" else "\\end{array}"),
    (re.compile(r"\\(?:begin|end)\{(?:equation|displaymath)\*?\}"), ""),
    (re.compile(r"\\(?:label|eqref|ref)\{[^{}]*\}"), ""),
    (re.compile(r"\\(?:nonumber|notag)\b"), ""),
    (re.compile(r"\\arg(?![A-Za-z])"), r"\\operatorname{arg}"),
]
# Environments that stand alone in markdown (MathJax treats them as display math).
_BARE_ENV = re.compile(r"\\begin\{(equation|align|gather|multline|eqnarray)(\*?)\}.*?\\end\{\1\2\}", re.S)
_UNCONVERTED = re.compile(r">\s*\\[A-Za-z]+")        # latex2mathml echoes unknown commands as text
_VARIANT = re.compile(r'<(mi|mn) mathvariant="([a-z-]+)">([^<]*)</\1>')

# First code point of capital A and of digit 0 in each Unicode math alphabet.
_ALPHA = {"bold": 0x1D400, "italic": 0x1D434, "bold-italic": 0x1D468, "script": 0x1D49C,
          "bold-script": 0x1D4D0, "fraktur": 0x1D504, "double-struck": 0x1D538, "bold-fraktur": 0x1D56C,
          "sans-serif": 0x1D5A0, "bold-sans-serif": 0x1D5D4, "sans-serif-italic": 0x1D608,
          "sans-serif-bold-italic": 0x1D63C, "monospace": 0x1D670}
_DIGIT = {"bold": 0x1D7CE, "double-struck": 0x1D7D8, "sans-serif": 0x1D7E2, "bold-sans-serif": 0x1D7EC,
          "monospace": 0x1D7F6}
# Letters that live outside the block (the "holes" are older letterlike symbols).
_HOLES = {("italic", "h"): 0x210E, ("script", "B"): 0x212C, ("script", "E"): 0x2130, ("script", "F"): 0x2131,
          ("script", "H"): 0x210B, ("script", "I"): 0x2110, ("script", "L"): 0x2112, ("script", "M"): 0x2133,
          ("script", "R"): 0x211B, ("script", "e"): 0x212F, ("script", "g"): 0x210A, ("script", "o"): 0x2134,
          ("fraktur", "C"): 0x212D, ("fraktur", "H"): 0x210C, ("fraktur", "I"): 0x2111, ("fraktur", "R"): 0x211C,
          ("fraktur", "Z"): 0x2128, ("double-struck", "C"): 0x2102, ("double-struck", "H"): 0x210D,
          ("double-struck", "N"): 0x2115, ("double-struck", "P"): 0x2119, ("double-struck", "Q"): 0x211A,
          ("double-struck", "R"): 0x211D, ("double-struck", "Z"): 0x2124}


def _styled(variant: str, text: str) -> str | None:
    """``text`` in the Unicode math alphabet ``variant``, or None if a character has no such form."""
    out = []
    for ch in text:
        if (variant, ch) in _HOLES:
            out.append(chr(_HOLES[variant, ch]))
        elif "A" <= ch <= "Z" and variant in _ALPHA:
            out.append(chr(_ALPHA[variant] + ord(ch) - ord("A")))
        elif "a" <= ch <= "z" and variant in _ALPHA:
            out.append(chr(_ALPHA[variant] + 26 + ord(ch) - ord("a")))
        elif "0" <= ch <= "9" and variant in _DIGIT:
            out.append(chr(_DIGIT[variant] + ord(ch) - ord("0")))
        else:
            return None
    return "".join(out)


def _fix_variants(mathml: str) -> str:
    # MathML Core honours mathvariant="normal" only; \mathbb{1}, \boldsymbol{x} become characters.
    def sub(m):
        tag, variant, text = m.groups()
        if variant == "normal":
            return m.group(0)
        styled = _styled(variant, html.unescape(text))
        return f"<{tag}>{styled}</{tag}>" if styled else f'<{tag} class="mv-{variant}">{text}</{tag}>'

    return _VARIANT.sub(sub, mathml)


_LIMIT_OPS = re.compile(r'<msub><mo(?: movablelimits="true")?>((?:min|max|lim|sup|inf|liminf|limsup|det|Pr|gcd|'
                        r'arg(?:&#x02009;)?(?:min|max))|argmin|argmax)</mo>')
_FUNCS = "sin|cos|tan|sec|csc|cot|sinh|cosh|tanh|coth|arcsin|arccos|arctan|log|ln|lg|exp|dim|ker|deg|hom"
_FUNCTION = re.compile(rf"(<(msub|msup|msubsup)>)?<mi>(?:{_FUNCS})</mi>")
_OPERAND = re.compile(r"<m(?:i|n|row|frac|sqrt|root|text|sub|sup|subsup|over|under|style)\b")


def _close_of(mathml: str, start: int, tag: str):
    """The end index of the ``<tag>`` element that opens at ``start`` (None if unbalanced)."""
    depth = 0
    for t in re.finditer(rf"</?{tag}\b[^>]*>", mathml[start:]):
        depth += -1 if t.group(0).startswith("</") else 1
        if depth == 0:
            return start + t.end()
    return None


def _movable_limits(mathml: str) -> str:
    # TeX puts the limits of \min_x under the operator in display math and beside it inline;
    # MathML says the same with <munder> and movablelimits (latex2mathml writes a plain <msub>).
    while (m := _LIMIT_OPS.search(mathml)) is not None:
        end = _close_of(mathml, m.start(), "msub")
        if end is None:
            return mathml
        inner = mathml[m.end():end - len("</msub>")]
        mathml = (mathml[:m.start()] + f'<munder><mo movablelimits="true">{m.group(1)}</mo>{inner}</munder>'
                  + mathml[end:])
    return mathml


def _function_space(mathml: str) -> str:
    # TeX leaves a thin space between \log (or \sin^2) and an operand: "log p", not "logp".
    out, pos = [], 0
    for m in _FUNCTION.finditer(mathml):
        if m.start() < pos:
            continue
        end = _close_of(mathml, m.start(), m.group(2)) if m.group(2) else m.end()
        if end is not None and _OPERAND.match(mathml, end):
            out.append(mathml[pos:end] + '<mspace width="0.1667em" />')
            pos = end
    return "".join(out) + mathml[pos:]


def tex_to_mathml(tex: str, display: bool = False) -> tuple[str, bool]:
    """Convert one formula (without delimiters) to a ``<math>`` element: ``(html, ok)``.

    On failure ``html`` is the escaped TeX in a ``<code class="tex-fallback">`` span, ``ok`` False.
    """
    source = tex.strip()
    for pattern, repl in _REWRITES:
        source = pattern.sub(repl, source)
    try:
        out = _l2m(source, display="block" if display else "inline")
        if _UNCONVERTED.search(out):
            raise ValueError("unknown command")
    except Exception:  # latex2mathml raises many kinds; any of them means "show the source"
        delim = "$$" if display else "$"
        fallback = html.escape(delim + tex + delim)
        return f'<code class="tex-fallback" title="formula not rendered">{fallback}</code>', False
    out = out.replace("<mi>&#x0007E;</mi>", "<mo>&#x0223C;</mo>")   # \sim is a relation, not "~"
    return _function_space(_movable_limits(_fix_variants(out))), True


@dataclass
class MathSpans:
    """Formulas swapped out of a text: ``token -> (tex, display)``; ``failed`` lists unrendered TeX."""

    run: str = field(default_factory=lambda: secrets.token_hex(4))
    spans: dict = field(default_factory=dict)
    failed: list = field(default_factory=list)

    def token(self, tex: str, display: bool) -> str:
        key = f"dfmath{self.run}x{len(self.spans)}x"   # letters and digits only: markdown leaves it alone
        self.spans[key] = (tex, display)
        return key

    def restore(self, page: str) -> str:
        """Put each formula back into rendered HTML as MathML."""
        if not self.spans:
            return page

        token = re.compile(rf"dfmath{self.run}x\d+x")

        def in_tag(m):      # a heading's id="..." holds the token too: put plain TeX there
            return token.sub(lambda t: html.escape(self.spans[t.group(0)][0].strip()), m.group(0))

        def sub(m):
            if m.group(0).startswith("<"):
                return in_tag(m)
            tex, display = self.spans[m.group(0)]
            out, ok = tex_to_mathml(tex, display)
            if not ok:
                self.failed.append(tex)
            return out

        return re.sub(rf"<[^<>]*>|{token.pattern}", sub, page)


def _closing_inline(text: str, i: int) -> int:
    """Index of the ``$`` closing an inline formula opened at ``i``, or -1 (pandoc's rules)."""
    n = len(text)
    if i + 1 >= n or text[i + 1].isspace():
        return -1
    j = i + 1
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == "\n" and text[j + 1:j + 2] == "\n":
            return -1                                   # a blank line ends the paragraph
        if c == "$":
            if text[j - 1].isspace() or text[j + 1:j + 2].isdigit():
                return -1                               # "$5 and $10" is money, not math
            return j
        j += 1
    return -1


def protect_math(text: str, spans: MathSpans | None = None) -> tuple[str, MathSpans]:
    """Replace every formula in markdown ``text`` by a token; code and ``\\$`` are left as they are."""
    spans = spans if spans is not None else MathSpans()
    out, i, n = [], 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start:
            fence = re.match(r"[ ]{0,3}(`{3,}|~{3,})", text[i:])
            if fence:
                close = re.compile(rf"^[ ]{{0,3}}{re.escape(fence.group(1)[0])}{{{len(fence.group(1))},}}[ \t]*$", re.M)
                eol = text.find("\n", i)
                end = close.search(text, eol + 1) if eol >= 0 else None
                stop = end.end() if end else n
                out.append(text[i:stop])
                i, at_line_start = stop, False
                continue
        at_line_start = c == "\n"
        if c == "`":
            run = re.match(r"`+", text[i:]).group(0)
            close = text.find(run, i + len(run))
            stop = close + len(run) if close >= 0 else i + len(run)
            out.append(text[i:stop])
            i = stop
            continue
        if c == "\\":
            env = _BARE_ENV.match(text, i)
            if env:
                out.append(spans.token(env.group(0), True))
                i = env.end()
                continue
            out.append(text[i:i + 2])
            i += 2
            continue
        if text.startswith("$$", i):
            close = text.find("$$", i + 2)
            while close > 0 and text[close - 1] == "\\":
                close = text.find("$$", close + 2)
            if close > i + 2:
                out.append(spans.token(text[i + 2:close], True))
                i = close + 2
                continue
        elif c == "$":
            close = _closing_inline(text, i)
            if close > 0:
                out.append(spans.token(text[i + 1:close], False))
                i = close + 1
                continue
        out.append(c)
        i += 1
    return "".join(out), spans


def markdown_math_to_html(text: str) -> tuple[str, list[str]]:
    """Convert the formulas of a markdown ``text`` in place (tokens are restored at once)."""
    protected, spans = protect_math(text)
    return spans.restore(protected), spans.failed
