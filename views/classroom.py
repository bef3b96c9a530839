"""Class: the lessons and each one's gallery (the class's runs ranked by the task's headline metric),
the queue in the order runs will start, and for the teacher: stop any run, cap runs per student."""

import pandas as pd
import streamlit as st

from playground import classroom
from playground.runstore import jobs
from playground.runstore.store import LIVE
from playground.runstore.summaries import headline_spec
from ui import identity
from ui.context import store
from ui.plain import plain
from ui.runs import status_text
from ui.train_form import lesson_link

me = identity.current()
st.title("Class")

lessons = classroom.list_lessons(store())
st.subheader("Lessons and their galleries")
if not lessons:
    st.info("No lessons yet. The teacher saves one from the Train page's sidebar (teacher mode).",
            icon=":material/school:")
for lesson in lessons:
    entries = classroom.gallery(store(), lesson.id)
    with st.expander(f"{plain(lesson.title)} · {len(entries)} runs", expanded=True):
        st.page_link("views/train.py", label=f"Open the lesson ({len(lesson.locked)} settings locked)",
                     icon=":material/play_arrow:", query_params={"lesson": lesson.id})
        st.caption(f"Link for the class: {plain(lesson_link(lesson.id))}")
        if entries:
            spec = headline_spec(entries[0].record)
            direction = "higher" if spec.higher_is_better else "lower"
            st.caption(f"Ranked by {spec.label} ({spec.unit}, {direction} is better); runs still training come last.")
            st.dataframe(pd.DataFrame([{
                "rank": entry.rank or None, "student": classroom.owner_label(entry.record.owner),
                "run": entry.record.name, spec.label: entry.value, "status": status_text(entry.record),
                "steps": entry.record.step, "id": entry.record.id} for entry in entries]),
                hide_index=True, width="stretch", key=f"gallery-{lesson.id}")

st.subheader("The queue")
order = store().queue_order()
live = {r.id: r for r in store().list_runs(LIVE)}
if not order:
    st.caption("Nothing waits for a slot.")
else:
    st.caption("Queued runs in the order they will start: each student's runs take turns.")
    st.dataframe(pd.DataFrame([{"position": i + 1, "student": classroom.owner_label(live[run_id].owner),
                                "run": live[run_id].name, "id": run_id}
                               for i, run_id in enumerate(order) if run_id in live]),
                 hide_index=True, width="stretch", key="queue")

if me.teacher:
    st.subheader("Teacher")

    def _set_cap() -> None:
        classroom.set_cap(store(), st.session_state["class_cap"])

    st.number_input("Runs each student may have queued or training at once (0: no limit)", min_value=0,
                    max_value=100, step=1, key="class_cap", value=classroom.cap(store()), on_change=_set_cap)

    def _stop(run_id: str) -> None:
        jobs.stop(store(), run_id)
        st.toast(f"Stopping run {run_id}.", icon=":material/stop:")

    running = list(live.values())
    if not running:
        st.caption("No run is training or queued.")
    for record in running:
        name_col, owner_col, button_col = st.columns([4, 2, 1], vertical_alignment="center")
        name_col.write(f"{status_text(record)} · {plain(record.name)} · `{record.id}`")
        owner_col.write(plain(classroom.owner_label(record.owner)))
        button_col.button("Stop", key=f"class-stop-{record.id}", on_click=_stop, args=(record.id,),
                          icon=":material/stop:")
