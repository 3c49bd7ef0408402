"""The seventeen lectures of the curriculum (seed: lectures 0-16), English and Korean titles.

A lecture is a jupytext percent-format notebook ``lNN_<topic>.py`` in this folder. ``LECTURES``
lists all seventeen; ``available()`` those whose notebook exists.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Lecture:
    number: int
    slug: str
    title: str
    title_ko: str

    @property
    def id(self) -> str:
        return f"L{self.number:02d}"

    @property
    def title_seed(self) -> str:
        """The title as the seed's Korean syllabus gives it, e.g. ``"1강 CNN architectures"``."""
        return f"{self.number}강 {self.title_ko}"

    @property
    def path(self) -> Path:
        return HERE / f"l{self.number:02d}_{self.slug}.py"

    @property
    def available(self) -> bool:
        return self.path.exists()


LECTURES = [
    Lecture(0, "foundations", "Supervised learning foundation", "Supervised Learning Foundation"),
    Lecture(1, "cnn_architectures", "CNN architectures", "CNN architectures"),
    Lecture(2, "augmentation", "Data augmentation, regularization", "data augmentation, regularization"),
    Lecture(3, "visualization", "Network visualization", "network visualization"),
    Lecture(4, "segmentation", "Image segmentation", "image segmentation"),
    Lecture(5, "adversarial_ood", "Adversarial attacks and out-of-distribution samples",
            "adversarial attacks and out-of-distribution samples"),
    Lecture(6, "vae", "Variational autoencoders", "variational autoencoders"),
    Lecture(7, "gan", "Generative adversarial networks", "generative adversarial networks"),
    Lecture(8, "vae_gan_applications", "VAE and GAN papers and applications",
            "VAE, GAN 관련 논문/적용 사례 공유"),
    Lecture(9, "overparameterized", "Training and generalization of overparameterized networks",
            "Training & generalization of modern overparameterized neural networks"),
    Lecture(10, "denoising_sr", "Deep-learning image processing: denoising and super-resolution",
            "Deep-learning based image processing: image denoising and super-resolution"),
    Lecture(11, "image_papers", "Deep-learning image processing paper review", "DL-based image processing 논문 review"),
    Lecture(12, "pruning", "Model pruning and efficient compressed models",
            "model pruning and efficient compressed models"),
    Lecture(13, "reinforcement", "Introduction to reinforcement learning", "reinforcement learning 개론"),
    Lecture(14, "transfer_online_automl", "Transfer learning, online learning, AutoML",
            "Transfer Learning, Online Learning, AutoML"),
    Lecture(15, "xai", "Data interpretation (XAI)", "Data Interpretation(XAI)"),
    Lecture(16, "aiops", "AIOps paper review and case study", "AIOps 관련 논문 Review 및 적용 Case Study"),
]


def get(key: str | int) -> Lecture:
    """Find a lecture by ``"L03"``, ``"l3"``, ``"3"`` or ``3``."""
    text = str(key).strip().upper().lstrip("L")
    if not text.isdigit() or not 0 <= int(text) < len(LECTURES):
        raise UsageError(f"unknown lecture {key!r}; expected L00 .. L{len(LECTURES) - 1:02d}")
    return LECTURES[int(text)]


def available() -> list[Lecture]:
    return [lec for lec in LECTURES if lec.available]
