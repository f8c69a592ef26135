"""Evaluation: loop metrics, the reference rows (static, random motion, ceilings, retrieval, image-blind presets, the
earlier pix2pix / STN designs), realism and the protocol reports."""
