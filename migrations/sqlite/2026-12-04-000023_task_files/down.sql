DROP TABLE task_file_chunks;
DROP TABLE task_files;
