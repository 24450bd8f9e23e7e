"""The built documentation, looked at as a user would: in headless Chromium.

CI builds the site first (``sphinx-build -W docs docs/_build/html``, see ``.ci/run``); here we
serve it on 127.0.0.1 and check that pages load with their figures and no console errors.
"""

import ast
import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parents[1] / "docs" / "_build" / "html"
PAGES = [
    "index.html",
    "generated/sigest.estimators.denoisers.BGAttentionDenoiser.html",
    "auto_examples/plot_denoise_eeg.html",
    "benchmarks.html",
]


def _require(condition, reason):
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (required in CI)")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def site_url():
    _require((SITE / "index.html").is_file(), f"docs not built at {SITE}")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    _require(Path(chromium).exists() and Path(driver_path).exists(),
             "chromium and chromedriver are not installed (Debian: chromium chromium-driver)")
    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=driver_path))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_with_its_figures_and_no_console_errors(site_url, browser, page):
    _require((SITE / page).is_file(), f"{page} was not built")
    browser.get_log("browser")  # drop messages of earlier pages
    browser.get(f"{site_url}/{page}")
    assert "sigest" in browser.title
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.src, i.complete, i.naturalWidth]);")
    broken = [src for src, complete, width in images if not complete or width == 0]
    assert not broken, f"broken images on {page}: {broken}"
    if page.startswith("auto_examples/"):
        assert any("sphx_glr" in src for src, _, _ in images), "the example shows no figure"
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, f"console errors on {page}: {errors}"


# --------------------------------------------------------------------------------------------
# What the pages say, checked against the code and the results files (no site build needed).

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md"),
                *(ROOT / "docs" / "user_guide").glob("*.md")])
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
RESULTS = ROOT / "benchmarks" / "results"


def _rel(path):
    return str(path.relative_to(ROOT))


def _code(path):
    """The Python of a page (its ```python blocks, in order) or of an example, as one module."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        return text
    return "\n".join(re.findall(r"```python\n(.*?)```", text, flags=re.S))


def _func_name(call):
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _calls(tree, *names):
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.Call) and _func_name(node) in names]


def _constant_strings(node):
    """The strings of a constant string or a tuple/list of them; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List)):
        strings = [_constant_strings(element) for element in node.elts]
        if all(s is not None for s in strings):
            return [s for group in strings for s in group]
    return None


def _estimators_built(tree):
    """(registry name, {keyword: value node}, line) of every ``get_estimator("name", ...)``, plus
    what is set later on the variable it is assigned to (``GridSearchCV(var, {...})``,
    ``var.set_params(...)``)."""
    built, variables = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                and _func_name(node.value) == "get_estimator" and node.value.args \
                and isinstance(node.value.args[0], ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    variables[target.id] = node.value.args[0].value
    for call in _calls(tree, "get_estimator"):
        if call.args and isinstance(call.args[0], ast.Constant):
            built.append((call.args[0].value,
                          {k.arg: k.value for k in call.keywords if k.arg}, call.lineno))
    for call in _calls(tree, "GridSearchCV", "RandomizedSearchCV"):
        if len(call.args) >= 2 and isinstance(call.args[0], ast.Name) \
                and call.args[0].id in variables and isinstance(call.args[1], ast.Dict):
            keys = {k.value: None for k in call.args[1].keys if isinstance(k, ast.Constant)}
            built.append((variables[call.args[0].id], keys, call.lineno))
    for call in _calls(tree, "set_params"):
        owner = call.func.value if isinstance(call.func, ast.Attribute) else None
        if isinstance(owner, ast.Name) and owner.id in variables:
            built.append((variables[owner.id], {k.arg: k.value for k in call.keywords if k.arg},
                          call.lineno))
    return built


def _unknown_parameter(cls, key):
    """Why ``key`` is not a parameter of ``cls``, or None if it is one."""
    import inspect

    params = cls().get_params()
    prefix, _, rest = key.partition("__")
    if not rest:
        return None if key in params else f"{cls.__name__} has no parameter {key!r}"
    if prefix == "module":
        module = params.get("module")
        names = inspect.signature(module).parameters if isinstance(module, type) else {}
        return None if rest in names else \
            f"{getattr(module, '__name__', module)} has no parameter {rest!r} ({key})"
    return None if prefix in params else f"{cls.__name__} has no parameter {prefix!r} ({key})"


@pytest.mark.parametrize("path", PAGES + EXAMPLES, ids=_rel)
def test_estimators_parameters_and_noises_named_in_the_docs_exist(path):
    import sigest
    from sigest.pretrained import available

    tree = ast.parse(_code(path))
    registered, noises, shipped = set(sigest.list_estimators()), set(sigest.list_noises()), \
        set(available())
    problems = []
    for name, keywords, line in _estimators_built(tree):
        if name not in registered:
            problems.append(f"line {line}: no estimator {name!r} is registered")
            continue
        cls = sigest.get_estimator_class(name)
        for key, value in keywords.items():
            if key == "pretrained":
                if (name, getattr(value, "value", None)) not in shipped:
                    problems.append(f"line {line}: no shipped weights {name}:{value.value}")
                continue
            why = _unknown_parameter(cls, key)
            if why:
                problems.append(f"line {line}: {why}")
            if key == "noise":
                unknown = set(_constant_strings(value) or []) - noises
                if unknown:
                    problems.append(f"line {line}: noise {sorted(unknown)} is not registered")
    for call in _calls(tree, "NoiseInjector"):
        sources = [k.value for k in call.keywords if k.arg == "source"] + call.args[:1]
        for name in _constant_strings(sources[0]) or [] if sources else []:
            if name not in noises:
                problems.append(f"line {call.lineno}: noise source {name!r} is not registered")
    for call in _calls(tree, "get_dataset_loader"):
        if call.args and isinstance(call.args[0], ast.Constant) and \
                call.args[0].value not in sigest.list_datasets():
            problems.append(f"line {call.lineno}: no data set {call.args[0].value!r}")
    assert not problems, f"{_rel(path)}: " + "; ".join(problems)


def _imported_names(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sigest"):
            for alias in node.names:
                yield node.module, alias.name, node.lineno


@pytest.mark.parametrize("path", PAGES + EXAMPLES, ids=_rel)
def test_names_the_docs_import_from_sigest_exist(path):
    import importlib

    missing = [f"line {line}: from {module} import {name}"
               for module, name, line in _imported_names(ast.parse(_code(path)))
               if not hasattr(importlib.import_module(module), name)]
    assert not missing, f"{_rel(path)}: " + "; ".join(missing)


def _subcommands():
    import argparse

    from sigest.cli import build_parser

    action = next(a for a in build_parser()._actions
                  if isinstance(a, argparse._SubParsersAction))
    return {name: set(parser._option_string_actions) for name, parser in action.choices.items()}


def _command_lines(text):
    """``sigest ...`` invocations in inline code and in shell blocks of a page."""
    spans = re.findall(r"`([^`\n]+)`", text)
    for block in re.findall(r"```(?:bash|sh|console)\n(.*?)```", text, flags=re.S):
        spans += block.replace("\\\n", " ").splitlines()
    for span in spans:
        for part in re.split(r"&&|;|\|", span.split("#")[0]):
            words = part.split()
            if words and words[0].endswith("sigest") and words[0] in ("sigest", ".venv/bin/sigest"):
                yield words[1:]


@pytest.mark.parametrize("path", PAGES, ids=_rel)
def test_sigest_commands_and_options_in_the_docs_exist(path):
    from sigest.pretrained import available

    commands, shipped = _subcommands(), set(available())
    problems = []
    for words in _command_lines(path.read_text(encoding="utf-8")):
        if not words or words[0].startswith("-"):
            continue
        command, args = words[0], words[1:]
        if command not in commands:
            problems.append(f"`sigest {command}` is not a command ({sorted(commands)})")
            continue
        for i, arg in enumerate(args):
            if arg.startswith("--") and arg not in commands[command]:
                problems.append(f"`sigest {command}` has no option {arg}")
            if arg == "--model" and i + 1 < len(args) and ":" in args[i + 1]:
                if tuple(args[i + 1].split(":", 1)) not in shipped:
                    problems.append(f"no shipped weights {args[i + 1]}")
    assert not problems, f"{_rel(path)}: " + "; ".join(problems)


def _ci_install_command():
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return next(line for line in lines if "pip install" in line).strip()


def test_readme_install_and_test_commands_are_what_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", readme, flags=re.S).group(1)
    test_command = next(line for line in block.splitlines()
                        if line.strip() and not line.startswith("#") and "[test" in line)
    install = _ci_install_command()
    assert test_command == f"{install} && .venv/bin/python -m pytest", \
        f"README's test command\n  {test_command}\nis not CI's\n  {install}\n  + pytest"
    assert re.search(r"^\.venv/bin/python -m pytest\b", ci, flags=re.M), \
        "CI does not run the README's .venv/bin/python -m pytest"


def test_install_page_installs_what_ci_installs():
    def pip_args(command):
        words = command.replace("\\\n", " ").split("#")[0].split()
        return sorted(words[words.index("install") + 1:])

    page = (ROOT / "docs" / "install.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", page, flags=re.S).group(1).replace("\\\n", " ")
    ci_args = pip_args(_ci_install_command().split("&&")[-1])
    page_args = [pip_args(line) for line in block.splitlines() if "pip install" in line]
    assert ci_args in page_args, f"docs/install.md installs {page_args}; CI installs {ci_args}"


def _test_functions():
    names = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        names |= set(re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.M))
    return names


@pytest.mark.parametrize("path", PAGES, ids=_rel)
def test_files_tests_and_links_named_in_the_docs_exist(path):
    text = path.read_text(encoding="utf-8")
    tests, problems = _test_functions(), []
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()  # made when run
    for span in re.findall(r"`([^`\n]+)`", text):
        file, _, test = span.partition("::")
        if re.fullmatch(r"(benchmarks|tests|plugins|examples|scripts|sigest)/[\w./-]+", file) \
                and file not in ignored and not (ROOT / file).exists():
            problems.append(f"no file {file}")
        for name in re.findall(r"\b(test_\w+)", test or span):
            if not (ROOT / "tests" / f"{name}.py").exists() and name not in tests:
                problems.append(f"no test {name}")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        target = target.split("#")[0]
        if target and not re.match(r"[a-z]+://", target) and \
                not (path.parent / target).exists():
            problems.append(f"broken link {target}")
    assert not problems, f"{_rel(path)}: " + "; ".join(problems)


def _mean(file, metric, seeds=None, **where):
    """Mean of ``metric`` over the rows of a results file that match ``where`` (and ``seeds``)."""
    import json

    import numpy as np

    rows = json.loads((RESULTS / file).read_text(encoding="utf-8"))["rows"]
    values = [row[metric] for row in rows
              if all(str(row.get(k)) == str(v) for k, v in where.items())
              and (seeds is None or row.get("seed") in seeds)]
    assert values, f"no rows of {file} match {where} (seeds {seeds})"
    return float(np.mean(values))


def _emg(file, model, noise="nstdb-ma", metric="rrmse_temporal", snr="all", seeds=(0, 1, 2)):
    return _mean(file, metric, seeds=seeds, artifact="EMG", train_data="eegdenoisenet",
                 test_noise=noise, model=model, snr_db=snr)


P30, P30_10K = "eeg_denoising_xl-p30.json", "eeg_denoising_xl-10k-p30.json"
SIX = (0, 1, 2, 3, 4, 5)


def _eog(model, metric="rrmse_temporal"):
    return _mean(P30, metric, seeds=(0, 1, 2), artifact="EOG", train_data="eegdenoisenet",
                 test_noise="eog", model=model, snr_db="all")
CROP = "eeg_synthesis_random-crop-3seeds.json"


def _claims():
    """(page, the sentence as the results files make it) of every number the prose quotes."""
    crop = {config: {metric: _mean(CROP, metric, seed="mean", config=config)
                     for metric in ("swd", "tstr_accuracy")}
            for config in ("wavegan-wgan-gp", "wavegan-wgan-gp-random-crop")}
    swd_ratio = crop["wavegan-wgan-gp-random-crop"]["swd"] / crop["wavegan-wgan-gp"]["swd"]
    tstr_gain = 100 * (crop["wavegan-wgan-gp-random-crop"]["tstr_accuracy"]
                       - crop["wavegan-wgan-gp"]["tstr_accuracy"])
    chambon = {snr: _mean("robust_classification_large.json", "macro_f1", task="sleep",
                          fold="mean", augmentation="nstdb-ma", snr_db=snr,
                          model="braindecode-sleepstagerchambon2018")
               for snr in ("clean", -8.0)}
    return [
        ("docs/user_guide/tasks.md",
         f"FCNN's RRMSE_t is {_emg(P30, 'fcnn+residual', snr=2):.2f} against the direct FCNN's "
         f"{_emg(P30, 'fcnn', snr=2):.2f} at 2 dB, but {_emg(P30, 'fcnn+residual', snr=-7):.2f} "
         f"against {_emg(P30, 'fcnn', snr=-7):.2f} at -7 dB, and "
         f"{_emg(P30, 'fcnn+residual'):.2f} against {_emg(P30, 'fcnn'):.2f} overall"),
        ("docs/user_guide/tasks.md",
         f"FCNN {_emg(P30, 'fcnn'):.3f} to {_emg(P30, 'fcnn+gated'):.3f} and "
         f"{_emg(P30, 'fcnn', metric='cc'):.3f} to {_emg(P30, 'fcnn+gated', metric='cc'):.3f}; "
         f"LSTM {_emg(P30, 'rnn-lstm'):.3f} to {_emg(P30, 'rnn-lstm+gated'):.3f} and "
         f"{_emg(P30, 'rnn-lstm', metric='cc'):.3f} to "
         f"{_emg(P30, 'rnn-lstm+gated', metric='cc'):.3f}; BG-Attention "
         f"{_emg(P30, 'bg-attention'):.3f} to {_emg(P30, 'bg-attention+gated'):.3f}, its CC "
         f"unchanged at {_emg(P30, 'bg-attention', metric='cc'):.2f}"),
        ("docs/user_guide/tasks.md",
         f"(FCNN {_emg(P30, 'fcnn', 'emgdb'):.3f} to {_emg(P30, 'fcnn+gated', 'emgdb'):.3f}, "
         f"BG-Attention {_emg(P30, 'bg-attention', 'emgdb'):.3f} to "
         f"{_emg(P30, 'bg-attention+gated', 'emgdb'):.3f})"),
        ("docs/user_guide/tasks.md",
         f"(RRMSE_t {_emg(P30_10K, 'fcnn'):.3f} and {_emg(P30_10K, 'rnn-lstm'):.3f} against "
         f"{_emg(P30_10K, 'fcnn+gated'):.2f}; `benchmarks/results/eeg_denoising_xl-10k-p30.md`)"),
        ("docs/user_guide/tasks.md",
         f"simple CNN RRMSE_t {_eog('simple-cnn'):.3f} to {_eog('simple-cnn+eval-mode'):.3f} and "
         f"CC {_eog('simple-cnn', 'cc'):.3f} to {_eog('simple-cnn+eval-mode', 'cc'):.3f}; "
         f"complex CNN {_eog('complex-cnn'):.3f} to {_eog('complex-cnn+eval-mode'):.3f} and "
         f"{_eog('complex-cnn', 'cc'):.3f} to {_eog('complex-cnn+eval-mode', 'cc'):.3f} "
         f"(BG-Attention: {_eog('bg-attention'):.3f} and {_eog('bg-attention', 'cc'):.3f})"),
        ("docs/user_guide/tasks.md",
         f"simple CNN {_emg(P30, 'simple-cnn', seeds=SIX):.3f} to "
         f"{_emg(P30, 'simple-cnn+eval-mode', seeds=SIX):.3f}, complex CNN "
         f"{_emg(P30, 'complex-cnn', seeds=SIX):.3f} to "
         f"{_emg(P30, 'complex-cnn+eval-mode', seeds=SIX):.3f}; on needle EMG never seen in "
         f"training (emgdb), {_emg(P30, 'simple-cnn', 'emgdb', seeds=SIX):.3f} to "
         f"{_emg(P30, 'simple-cnn+eval-mode', 'emgdb', seeds=SIX):.3f} and "
         f"{_emg(P30, 'complex-cnn', 'emgdb', seeds=SIX):.3f} to "
         f"{_emg(P30, 'complex-cnn+eval-mode', 'emgdb', seeds=SIX):.3f}. FCNN "
         f"{_emg(P30, 'fcnn', seeds=SIX):.3f} to {_emg(P30, 'fcnn+eval-mode', seeds=SIX):.3f}"),
        ("docs/user_guide/tasks.md",
         f"cuts WaveGAN's sliced Wasserstein distance to a "
         f"{ {2: 'half', 3: 'third', 4: 'quarter'}.get(round(1 / swd_ratio), swd_ratio)} and "
         f"raises its TSTR accuracy by {tstr_gain:.0f} points"),
        ("docs/user_guide/conventions.md",
         f"({chambon['clean']:.2f} clean, {chambon[-8.0]:.2f} at -8 dB; mean of 6 folds"),
        ("docs/benchmarks.md",
         f"One BG-Attention fit took "
         f"{_emg(P30_10K, 'bg-attention', metric='fit_seconds') / 3600:.1f} hours "
         f"({_emg(P30_10K, 'bg-attention', metric='epochs_trained'):.0f} epochs)"),
    ]


def test_numbers_quoted_in_the_prose_match_the_results_files():
    wrong = []
    for page, sentence in _claims():
        text = " ".join((ROOT / page).read_text(encoding="utf-8").split())
        if sentence not in text:
            wrong.append(f"{page} should say: {sentence}")
    assert not wrong, "\n".join(wrong)
