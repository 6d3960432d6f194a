"""The CPU demo's choices, as plain data: `creative-painting --help` lists them without importing torch."""

BASE_CAPTIONS = {
    "laion": "the base model learns each style under other words than the WikiArt name (its palette and strokes, "
             "or a web alias; a third of captions name no style), as SD learned styles from LAION",
    "subject": "the base model learns subjects only: no text is tied to any style",
}
RECIPES = {
    "paper": "stage 1 (a new text encoder, U-Net frozen), then stage 2 (both jointly): the paper's",
    "stage2": "stage 2 alone from the base model (text encoder and U-Net jointly)",
    "unet": "the U-Net alone, base text encoder frozen (diffusers' train_text_to_image)",
    "lora": "LoRA on the U-Net attention, text encoder frozen (diffusers' LoRA recipe)",
}
