"""Small data dlwalk has never seen, built from other packages' files, as a new user's own data would be: image folders of
crops of photos that ship with scikit-learn and matplotlib, and small tables from statsmodels and vega_datasets."""
from pathlib import Path
import numpy as np
import pandas as pd

def _photos() -> dict:
    "The three photos: scikit-learn's china.jpg and flower.jpg, matplotlib's grace_hopper.jpg, as uint8 RGB arrays."
    from PIL import Image
    import matplotlib.cbook as cbook
    from sklearn.datasets import load_sample_images
    china, flower = load_sample_images().images
    with cbook.get_sample_data('grace_hopper.jpg') as f: hopper = np.asarray(Image.open(f).convert('RGB'))
    return dict(china=china, flower=flower, hopper=hopper)

def photo_crops(root, # the folder to create: one sub-folder per photo, the crops inside as PNG files
                n_per_class=(15, 18, 22), # crops of each photo (classes china, flower, hopper)
                grey:bool=False, # save the crops in grey levels (no colour cue)
                seed:int=0, # seed of the crops' positions and sizes
                out_size:int=48, # the saved crops' side in pixels
               ) -> Path:
    "An image folder of random square crops (40-160 px, resized to `out_size`) of three photos: the class is the photo."
    from PIL import Image
    rng, root = np.random.default_rng(seed), Path(root)
    for (name, img), n in zip(_photos().items(), n_per_class):
        (root / name).mkdir(parents=True, exist_ok=True)
        h, w = img.shape[:2]
        for i in range(n):
            s = int(rng.integers(40, 161)); y, x = int(rng.integers(0, h - s)), int(rng.integers(0, w - s))
            im = Image.fromarray(img[y:y + s, x:x + s]).resize((out_size, out_size), Image.BILINEAR)
            (im.convert('L') if grey else im).save(root / name / f'{i:03d}.png')
    return root

def spector() -> pd.DataFrame:
    "statsmodels' Spector and Mazzeo (1980) table: 32 students, GPA, TUCE, PSI -> GRADE (0/1)."
    from statsmodels.datasets import spector as s
    df = s.load_pandas().data.copy()
    df['GRADE'] = df['GRADE'].map({0.: 'no', 1.: 'yes'})
    return df

def iris_sample(n:int=45, # rows, a third of each species
                seed:int=0, # seed of the sample
               ) -> pd.DataFrame:
    "A stratified sample of `n` rows of the iris table in vega_datasets (not a dataset dlwalk embeds)."
    from vega_datasets import local_data
    df = local_data.iris()
    parts = [df[df.species == s].sample(n // 3, random_state=seed) for s in sorted(df.species.unique())]
    return pd.concat(parts).sample(frac=1, random_state=seed).reset_index(drop=True)
