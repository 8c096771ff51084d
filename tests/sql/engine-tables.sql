-- The workflow engine's own tables, which the module reads but does not own, as ../shared/spec/README.md describes
-- them. Created by the tests and the demo where they need a workflow graph.
CREATE TABLE workflows (id varchar(255) PRIMARY KEY, name text NOT NULL);
CREATE TABLE workflow_nodes (id serial PRIMARY KEY, workflow_id varchar(255) NOT NULL, node_id varchar(255) NOT NULL, node_type varchar(255), name varchar(255));
CREATE TABLE workflow_connections (id serial PRIMARY KEY, workflow_id varchar(255) NOT NULL, from_node_id varchar(255) NOT NULL, to_node_id varchar(255) NOT NULL);
CREATE TABLE execution_logs (id bigserial PRIMARY KEY, trigger_id integer, created_at timestamptz NOT NULL DEFAULT now());
