"""An example for every command's --help. The README's commands are copied from here, and a test checks
that each of them still appears in its command's help (tests/test_readme.py)."""

EXAMPLES: dict[str, list[str]] = {
    "paint": [
        'creative-painting paint "a boat" --artist "Anna Orlova" --artist "Clara Berg" --model demo',
        'creative-painting paint "urbanization of china" --artist "Vincent van Gogh" --artist "Claude Monet" '
        '--artist "Nicholas Roerich" --model CompVis/stable-diffusion-v1-4',
        'creative-painting paint "a rocket launch" --artist "Claude Monet" --style Impressionism --year 1890 '
        '--images 4 --preset fast --lora monet.safetensors:0.8 --model ~/models/sd-v1-4.ckpt --out rocket',
        "creative-painting paint --again rocket/images/p00000-a000-s01-claude-monet-3f2a9c1b0e.png "
        "--model ~/models/sd-v1-4.ckpt --out again",
        'creative-painting paint "urbanization of china" --extend 3 --artist "Vincent van Gogh"',
        'creative-painting paint "$(cat scene.txt)" --long-prompt chunk --model ~/models/sd-v1-4.ckpt',
    ],
    "batch": [
        'creative-painting batch --out runs/china --prompt "urbanization of china" --artist top:30 --images 2',
        "creative-painting batch parti.yaml --out runs/parti --ray auto",
        "accelerate launch --num_processes 8 -m creative_painting.cli.main batch parti.yaml --out runs/parti",
    ],
    "figures": [
        "creative-painting figures --model ~/models/sd-v1-4.ckpt --wikiart style_train.csv,style_val.csv "
        "--out figures/",
    ],
    "studio": [
        "creative-painting studio --model CompVis/stable-diffusion-v1-4",
        "creative-painting studio --model demo",
        "creative-painting studio --model demo/seed-0/models/stage2/model.safetensors --data studio-data",
        "creative-painting studio --host 0.0.0.0 --auth ann:s3cret",
    ],
    "extend": [
        'creative-painting extend "urbanization of china" --top 5',
        'creative-painting extend "the industrial revolution" --rewrite 3',
        'creative-painting extend "asia morning" --scoring paper --json',
        'creative-painting extend "urbanization of china" --index ~/wiki-index --json',
        "creative-painting extend fit-tfidf laion-part-0.parquet wikiart.tar.gz --out captions-tfidf.json",
    ],
    "wiki index": ["creative-painting wiki index enwiki-latest-pages-articles-multistream.xml.bz2 ~/wiki-index"],
    "wikiart stats": ["creative-painting wikiart stats style_train.csv,style_val.csv --plot fig3.png"],
    "wikiart validate": ["creative-painting wikiart validate wikiart.tar.gz"],
    "wikiart shard": [
        "creative-painting wikiart shard wikiart.tar.gz,genre_train.csv,genre_val.csv shards/ --size 512",
        "creative-painting wikiart shard shards/ latents/ --latents CompVis/stable-diffusion-v1-4",
    ],
    "train": [
        "creative-painting train stage1.yaml",
        "creative-painting train stage2.yaml model=runs/stage1/model.safetensors",
        "accelerate launch --num_processes 8 -m creative_painting.cli.main train stage2.yaml",
    ],
    "train-vae": ["creative-painting train-vae vae.yaml max_steps=2000"],
    "demo": [
        "creative-painting demo --quick --out out/demo",
        "creative-painting demo --out demo",
        "creative-painting demo --out demo --seeds 3 --recipe stage2 --base-captions subject",
    ],
    "models make-tiny": ["creative-painting models make-tiny out/tiny"],
    "models inspect": ["creative-painting models inspect ~/models/sd-v1-4.ckpt"],
    "models convert": ["creative-painting models convert ~/models/sd-v1-4.ckpt ~/models/sd-v1-4-diffusers"],
    "models extract-lora": ["creative-painting models extract-lora ~/models/sd-v1-4.ckpt runs/stage2/model.safetensors "
                            "stage2-lora.safetensors --rank 32"],
}


def epilog(command: str) -> str | None:
    lines = EXAMPLES.get(command)
    return "examples:\n" + "\n".join(f"  {line}" for line in lines) if lines else None
