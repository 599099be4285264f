-- schema for ${{ values.name }} on ${{ values.databaseEngine }}
CREATE TABLE items (id integer primary key);
