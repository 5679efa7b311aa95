"""A small course written in English with a French translation, for the language tests."""

from __future__ import annotations

from pathlib import Path

COURSE = """---
id: pumps
title: Water pumps
version: 1.0.0
language: en
summary: Keep a solar water pump running.
---
Welcome to the pump course.
"""

COURSE_FR = """---
title: Les pompes à eau
summary: Faire tourner une pompe solaire.
---
Bienvenue dans le cours sur les pompes.
"""

LESSON = """# Checking the pump

The pump needs clean water. ![Pump drawing](media/pump.svg)

```quiz
id: pump-voltage
type: numeric
unit: V

What voltage does the pump need?

= 3.5 ±0.01 V
~ 12 V
  > That is the battery voltage.
```

```quiz
id: pump-part
type: single

Which part lifts the water?

- ( ) The cable
- (x) The impeller
```

```quiz
id: pump-word
type: text

Name the liquid the pump moves.

= water
```

```quiz
id: pump-steps
type: order

Put the steps in order.

1. Switch off
2. Open the cover
3. Clean the filter
```

```quiz
id: pump-safe
type: truefalse

The pump may run dry.

answer: false
```
"""

LESSON_FR = """# Vérifier la pompe

La pompe a besoin d'eau propre. ![Dessin de la pompe](media/pump.svg)

```quiz
id: pump-voltage
type: numeric
unit: V

Quelle tension faut-il à la pompe ?

= 3.5 ±0.01 V
~ 12 V
  > C'est la tension de la batterie.
```

```quiz
id: pump-part
type: single

Quelle pièce soulève l'eau ?

- ( ) Le câble
- (x) La turbine
```

```quiz
id: pump-word
type: text

Nommez le liquide que la pompe déplace.

= eau
```

```quiz
id: pump-steps
type: order

Mettez les étapes dans l'ordre.

1. Couper le courant
2. Ouvrir le capot
3. Nettoyer le filtre
```

```quiz
id: pump-safe
type: truefalse

La pompe peut tourner à sec.

answer: false
```
"""

SECOND = "# Storing the pump\n\nKeep it dry.\n"

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><title>{}</title>'
       '<rect width="10" height="10"/></svg>')


def write_course(courses: Path, french: bool = True, french_media: bool = True) -> Path:
    """The pumps course under `courses`; with its French translation unless told not to."""
    folder = courses / "pumps"
    (folder / "media").mkdir(parents=True, exist_ok=True)
    (folder / "course.md").write_text(COURSE, encoding="utf-8")
    (folder / "01-checking.md").write_text(LESSON, encoding="utf-8")
    (folder / "02-storing.md").write_text(SECOND, encoding="utf-8")
    (folder / "media" / "pump.svg").write_text(SVG.format("Pump"), encoding="utf-8")
    if french:
        fr = folder / "fr"
        fr.mkdir(exist_ok=True)
        (fr / "course.md").write_text(COURSE_FR, encoding="utf-8")
        (fr / "01-checking.md").write_text(LESSON_FR, encoding="utf-8")
        (fr / "02-storing.md").write_text("# Ranger la pompe\n\nGardez-la au sec.\n",
                                          encoding="utf-8")
        if french_media:
            (fr / "media").mkdir(exist_ok=True)
            (fr / "media" / "pump.svg").write_text(SVG.format("Pompe"), encoding="utf-8")
    return folder
