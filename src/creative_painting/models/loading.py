"""Load Stable Diffusion v1.x from a hub id, a local diffusers folder, or a CompVis single file."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

import torch
from accelerate import init_empty_weights
from diffusers import AutoencoderKL, UNet2DConditionModel
from transformers import CLIPTextModel, CLIPTokenizer

from creative_painting.errors import UserError
from creative_painting.models.bundle import LoadReport, StableDiffusion
from creative_painting.models.choice import ModelChoice
from creative_painting.models.compvis_layout import (
    CONFIG_METADATA_KEY,
    IGNORED_KEY_PATTERN,
    compvis_name,
    match_text_keys,
    read_checkpoint,
    split_to_diffusers,
)
from creative_painting.models.configs import DEFAULT_MODEL, TINY, ModelConfigs, bundled_configs, public
from creative_painting.models.device import place, quiet_casts, resolve_device
from creative_painting.models.tokenizer import load_clip_tokenizer

logger = logging.getLogger(__name__)

Dtypes = Mapping[str, torch.dtype]  # {"unet" | "vae" | "text_encoder": dtype}
SINGLE_FILE_SUFFIXES = (".ckpt", ".safetensors")
# Only what painting needs: no safety checker, no duplicate .bin / fp16 / EMA-only copies.
HUB_PATTERNS = ["model_index.json", "unet/*", "vae/*", "text_encoder/*", "tokenizer/*", "scheduler/*"]
HUB_IGNORE = ["*.bin", "*.msgpack", "*.onnx", "*fp16*", "*non_ema*", "*.ckpt"]


def load(choice: ModelChoice | str, *, device: torch.device | None = None,
         dtypes: Dtypes | None = None) -> StableDiffusion:
    """The one way a model comes in, for every command.

    A `ModelChoice` (`paint`, `batch` and its Ray and accelerate workers, the studio, latents) is read, then
    placed as it says by `place`: its device (or `device`, this process's GPU where `accelerate launch` started
    several), its dtype and its backend. A name or path alone (training, whose accelerate places what it
    trains; the experiment, on the CPU in fp32 by design; `models`, which writes what it read) is read on the
    CPU, in fp32 or in `dtypes`, and not moved."""
    if isinstance(choice, str):
        return load_model(choice, dtypes=dtypes)
    model = load_model(choice.model, config_dir=choice.config, dtypes=dtypes)
    chosen, dtype = resolve_device(choice.device, choice.dtype)
    if device is not None and chosen.type == device.type:
        chosen = device
    return place(model, chosen, dtype, choice.backend)


def load_model(source: str = DEFAULT_MODEL, *, config_dir: str | Path | None = None,
               dtypes: Dtypes | None = None) -> StableDiffusion:
    """Read a model from `source`: a `.ckpt`/`.safetensors` file, a diffusers folder, a hub id, or `tiny` (the tiny
    random model, for every command alike; a folder of that name comes first).

    Single files use, in order: `config_dir` (a diffusers folder's configs), configs embedded by
    `StableDiffusion.save_single_file`, then the bundled SD v1 configs, so no network is needed.
    `dtypes` ({"unet": torch.bfloat16}) loads those parts of a diffusers folder or hub id straight into that
    dtype: a frozen bf16 SD v1 U-Net never passes through fp32 (3.4 GB) on its way to 1.7 GB. A single file
    is in memory whole anyway; each part is cast once.
    """
    path = Path(source)
    if path.suffix in SINGLE_FILE_SUFFIXES:
        return load_single_file(path, config_dir=config_dir, dtypes=dtypes)
    if path.is_dir():
        return load_diffusers_folder(path, dtypes=dtypes)
    if path.exists():
        raise UserError(f"--model {source}: expected a .ckpt/.safetensors file or a diffusers folder")
    if source == TINY:
        from creative_painting.models.tiny import make_tiny_model

        return make_tiny_model()
    if source.count("/") == 1 and not source.startswith((".", "/", "~")):
        return load_from_hub(source, dtypes)
    raise UserError(f"model path not found: {source}")


def load_from_hub(repo_id: str, dtypes: Dtypes | None = None) -> StableDiffusion:
    """Download (or reuse the cache of) a diffusers repo, then load it as a local folder."""
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(repo_id, allow_patterns=HUB_PATTERNS, ignore_patterns=HUB_IGNORE)
    except Exception as e:  # offline, unknown repo, gated repo, no network: all mean "give me a path"
        raise UserError(
            f"cannot load {repo_id!r} from the Hugging Face hub: {_hub_reason(e)}; "
            f"pass --model PATH to a local diffusers folder or a .ckpt/.safetensors file"
        ) from e
    return load_diffusers_folder(Path(folder), source=repo_id, dtypes=dtypes)


def _hub_reason(error: Exception) -> str:
    """Why the hub gave nothing, in whole words (its own messages run to several sentences)."""
    from huggingface_hub.errors import GatedRepoError, LocalEntryNotFoundError, RepositoryNotFoundError

    if isinstance(error, GatedRepoError):
        return "the repository is gated (accept its licence on the hub and log in first)"
    if isinstance(error, RepositoryNotFoundError):
        return "no such repository, or it is private"
    if isinstance(error, LocalEntryNotFoundError) or "outgoing traffic has been disabled" in str(error):
        return "it is not in the local cache and the hub is offline (HF_HUB_OFFLINE is set, or no network)"
    text = " ".join(str(error).split()) or type(error).__name__
    first = text.split(". ")[0].rstrip(".")
    return first if len(first) <= 200 else first[:197] + "..."


def load_diffusers_folder(folder: Path, source: str | None = None,
                          dtypes: Dtypes | None = None) -> StableDiffusion:
    missing = [sub for sub in ("unet", "vae", "text_encoder") if not (folder / sub).is_dir()]
    if missing:
        raise UserError(f"{folder} is not a diffusers Stable Diffusion folder (missing {', '.join(s + '/' for s in missing)})")
    configs = _folder_configs(folder)
    dtypes = dtypes or {}
    try:  # without a dtype diffusers loads fp32 and transformers the file's own
        unet = UNet2DConditionModel.from_pretrained(folder, subfolder="unet", torch_dtype=dtypes.get("unet"))
        vae = AutoencoderKL.from_pretrained(folder, subfolder="vae", torch_dtype=dtypes.get("vae"))
        text_encoder = CLIPTextModel.from_pretrained(folder / "text_encoder",
                                                     dtype=dtypes.get("text_encoder", "auto"))
    except (OSError, ValueError, RuntimeError) as e:
        raise UserError(f"cannot load diffusers folder {folder}: {str(e).strip().splitlines()[0]}") from e
    tokenizer_dir = folder / "tokenizer"
    tokenizer = CLIPTokenizer.from_pretrained(tokenizer_dir) if tokenizer_dir.is_dir() else load_clip_tokenizer()
    tokenizer.model_max_length = min(tokenizer.model_max_length, text_encoder.config.max_position_embeddings)
    return StableDiffusion(unet, vae, text_encoder, tokenizer, public(configs.scheduler), source or str(folder)).eval()


def load_single_file(path: Path, *, config_dir: str | Path | None = None,
                     dtypes: Dtypes | None = None) -> StableDiffusion:
    checkpoint, metadata = read_checkpoint(path)
    configs = _single_file_configs(metadata, config_dir)
    parts = split_to_diffusers(checkpoint, configs.unet, configs.vae)
    with init_empty_weights():  # no random init of ~1B parameters: the checkpoint supplies them
        networks = configs.networks()
    parts["text_encoder"] = match_text_keys(parts["text_encoder"], set(networks["text_encoder"].state_dict()))
    for name, module in networks.items():
        _load_strictly(module, parts[name], name, path)
    model = StableDiffusion(**networks, tokenizer=load_clip_tokenizer(), scheduler_config=public(configs.scheduler),
                            source=str(path))
    model.report = _report_unused(checkpoint, model)
    with quiet_casts():
        for name, module in networks.items():
            module.to(dtype=(dtypes or {}).get(name, torch.float32))  # the checkpoint is in memory whole anyway
    return model.eval()


def _single_file_configs(metadata: dict[str, str], config_dir: str | Path | None) -> ModelConfigs:
    if config_dir is not None:
        return _folder_configs(Path(config_dir), flag="--config ")
    if CONFIG_METADATA_KEY in metadata:
        return ModelConfigs.from_json(metadata[CONFIG_METADATA_KEY], "the configuration embedded in the checkpoint")
    return bundled_configs()


def read_configs(source: str) -> ModelConfigs | None:
    """The configs of the model `source` names, without reading its weights (to size a run before loading):
    None for a hub id that is not in the local cache."""
    path = Path(source)
    if path.suffix in SINGLE_FILE_SUFFIXES:
        if not path.is_file():
            return None
        if path.suffix == ".ckpt":
            return _single_file_configs(read_checkpoint(path)[1], None)  # memory-mapped: no tensor is read
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="pt") as f:
                metadata = dict(f.metadata() or {})
        except Exception:  # noqa: BLE001 - load_model reports a damaged file in its own words
            return None
        return _single_file_configs(metadata, None)
    if path.is_dir():
        return _folder_configs(path) if (path / "unet").is_dir() else None
    try:
        from huggingface_hub import snapshot_download

        folder = snapshot_download(source, allow_patterns=["*/config.json"], local_files_only=True)
    except Exception:  # noqa: BLE001 - not cached, or not a hub id: load_model says which
        return None
    return _folder_configs(Path(folder))


def _folder_configs(folder: Path, flag: str = "") -> ModelConfigs:
    """A diffusers folder's configs are read and checked before from_pretrained allocates anything. A model's
    folder without a scheduler config gets SD v1's; a `--config` folder (`flag`) must describe its own."""
    configs = {}
    for name in ("unet", "vae", "text_encoder", "scheduler"):
        file = folder / name / ("scheduler_config.json" if name == "scheduler" else "config.json")
        if name == "scheduler" and not flag and not file.is_file():
            configs[name] = bundled_configs().scheduler
            continue
        try:
            configs[name] = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError(f"{flag}{folder} is not a diffusers Stable Diffusion folder (no {name}/{file.name})") from None
        except (OSError, ValueError) as e:
            raise UserError(f"{flag}{file} is not a readable JSON config ({e})") from None
    return ModelConfigs(**configs).check(f"{flag}{folder}")


def _load_strictly(module: torch.nn.Module, state: dict[str, torch.Tensor], name: str, path: Path) -> None:
    """Load with every key accounted for: missing weights are an error, never silently random."""
    expected = set(module.state_dict())
    missing = sorted(expected - set(state))
    if missing:
        raise UserError(
            f"{path} lacks {len(missing)} {name} weights (e.g. {', '.join(missing[:3])}); "
            "is it a Stable Diffusion v1 checkpoint? For other architectures pass --config DIR"
        )
    extra = sorted(set(state) - expected)
    if extra:
        logger.warning("%s: %d converted %s keys have no place in the model, e.g. %s", path, len(extra), name, extra[:3])
    try:
        # contiguous: converters leave views (e.g. [:, :, 0, 0]) that would pick slower, other kernels
        module.load_state_dict({k: v.contiguous() for k, v in state.items() if k in expected}, strict=True, assign=True)
    except RuntimeError as e:
        detail = next((line.strip() for line in str(e).splitlines() if "size mismatch" in line), str(e)[:200])
        raise UserError(f"{path} does not fit the {name} architecture ({detail}); pass --config DIR") from e


def _report_unused(checkpoint: dict[str, torch.Tensor], model: StableDiffusion) -> LoadReport:
    """Checkpoint keys that no weight came from: computed by mapping the loaded model back to CompVis names."""
    unet_config, vae_config = dict(model.unet.config), dict(model.vae.config)
    used = {
        compvis_name(component, key, unet_config, vae_config)
        for component, state in model.state_dicts().items()
        for key in state
    }
    leftover = sorted(set(checkpoint) - used)
    ignored = [k for k in leftover if IGNORED_KEY_PATTERN.match(k)]
    unused = [k for k in leftover if not IGNORED_KEY_PATTERN.match(k)]
    if unused:
        logger.warning("%s: %d keys were not used, e.g. %s", model.source, len(unused), unused[:3])
    return LoadReport(unused=unused, ignored=ignored)
